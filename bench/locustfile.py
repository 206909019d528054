"""The original capacity test (Scenario 1), done right, usable against any host:

    BENCH_CLIP=clip.mp4 locust -f bench/locustfile.py --host http://127.0.0.1:8080

Each user signs up, logs in (JWT) and uploads the clip in a loop, as multipart `video_file` +
`title`. Success is 202 with a `task_id`; anything else is a failure whose message keeps the
status and the server's `detail`, so 429/503 (backpressure) can be told apart from real errors.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

CLIP = Path(os.environ.get("BENCH_CLIP", "var/bench/clip-18mb-60s-1080p.mp4"))
# Users signed up and logged in before the run (`make bench` makes them, so the measured window
# holds uploads only, not 300 users' bcrypt): one JSON list of tokens, handed out in order.
TOKENS: list[str] = (
    json.loads(Path(os.environ["BENCH_TOKENS"]).read_text())
    if os.environ.get("BENCH_TOKENS")
    else []
)
_next_token = itertools.count()
# Statistics restart this long after the last user spawned (bench/locust_run.py): the measured
# window holds steady state only.
WARMUP_SECONDS = float(os.environ.get("BENCH_WARMUP_SECONDS", "0"))
_environment: list[Environment] = []
PAYLOAD = CLIP.read_bytes() if CLIP.exists() else b""
PASSWORD = "bench-password-1"
Listener = TypeVar("Listener", bound=Callable[..., None])


def listen(hook: Any) -> Callable[[Listener], Listener]:
    """`@hook.add_listener`, keeping the listener's type (Locust's hooks are untyped)."""

    def add(listener: Listener) -> Listener:
        hook.add_listener(listener)
        return listener

    return add


@listen(events.init)
def _keep_environment(environment: Environment, **_kwargs: object) -> None:
    _environment.append(environment)


@listen(events.spawning_complete)
def _measure_after_warmup(user_count: int, **_kwargs: object) -> None:
    stats = _environment[0].stats
    stats.reset_all()
    if WARMUP_SECONDS > 0:
        gevent.spawn_later(WARMUP_SECONDS, stats.reset_all)


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", ""))[:80]
    except Exception:
        return (response.text or "")[:80].replace("\n", " ")


class BenchUser(HttpUser):
    """Signs up and logs in; no task of its own (Locust adds a base class's tasks to every
    subclass, so each upload protocol below is a sibling, not a child of another)."""

    abstract = True
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        if not PAYLOAD:
            raise RuntimeError(f"BENCH_CLIP {CLIP} is missing or empty")
        self.auth: dict[str, str] = {}
        if TOKENS:
            self.auth = {"Authorization": f"Bearer {TOKENS[next(_next_token) % len(TOKENS)]}"}
            self.signed_up = True
            return
        self.email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        body = {
            "first_name": "Bench",
            "last_name": "User",
            "email": self.email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "city": "Bogota",
        }
        self.signed_up = self.client.post(
            "/api/auth/signup", json=body, name="signup"
        ).status_code in (201, 400)

    def _authenticated(self) -> bool:
        if not self.auth:
            self._login()
        return bool(self.auth)

    def _login(self) -> None:
        """A user without a token logs in (again) before uploading, as a real client would,
        instead of sending uploads that can only be refused."""
        if not self.signed_up:
            self.on_start()
            return
        login = self.client.post(
            "/api/auth/login", json={"email": self.email, "password": PASSWORD}, name="login"
        )
        if login.status_code == 200:
            self.auth = {"Authorization": f"Bearer {login.json()['access_token']}"}


class UploadUser(BenchUser):
    """Multipart: the whole clip in one POST."""

    @task
    def upload(self) -> None:
        if not self._authenticated():
            return
        files = {"video_file": ("clip.mp4", PAYLOAD, "video/mp4")}
        with self.client.post(
            "/api/videos/upload",
            headers=self.auth,
            data={"title": "bench"},
            files=files,
            name="upload",
            catch_response=True,
        ) as response:
            if response.status_code == 202 and "task_id" in (response.text or ""):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}: {_detail(response)}")


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


class TusUser(BenchUser):
    """The same user uploading the same clip over tus: create, then PATCH — the whole file in one
    request, or BENCH_TUS_CHUNK bytes per PATCH. One finished upload is one "upload" sample."""

    chunk = int(os.environ.get("BENCH_TUS_CHUNK", "0")) or len(PAYLOAD) or 1

    @task
    def upload(self) -> None:
        if not self._authenticated():
            return
        import time

        started = time.perf_counter()
        tus = {**self.auth, "Tus-Resumable": "1.0.0"}
        error = None
        created = self.client.post(
            "/api/uploads",
            name="tus create",
            headers={
                **tus,
                "Upload-Length": str(len(PAYLOAD)),
                "Upload-Metadata": f"title {_b64('bench')}",
            },
        )
        if created.status_code != 201:
            error = f"HTTP {created.status_code}: {_detail(created)}"
        else:
            url, offset = created.headers["Location"], 0
            while offset < len(PAYLOAD) and error is None:
                patch = self.client.patch(
                    url,
                    name="tus patch",
                    data=PAYLOAD[offset : offset + self.chunk],
                    headers={
                        **tus,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
                if patch.status_code != 204:
                    error = f"HTTP {patch.status_code}: {_detail(patch)}"
                else:
                    offset = int(patch.headers["Upload-Offset"])
            if error is None and "X-Video-ID" not in patch.headers:
                error = "no X-Video-ID after the last byte"
        self.environment.events.request.fire(
            request_type="TUS",
            name="upload",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(PAYLOAD),
            exception=RuntimeError(error) if error else None,
            context={},
        )
