"""The chaos soak's users (bench/chaos.py): each uploads a clip through nginx — multipart with an
Idempotency-Key or tus in 1 MiB chunks, in turn — retries politely through any fault (the same
key; tus resumes from the server's offset), then watches its video until it ends and uploads the
next. Every response and every status seen is written down with its time, for the invariants.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CHUNK = 1024 * 1024
RETRYABLE = {429, 502, 503, 504}
TERMINAL = {"processed", "failed"}
GIVE_UP_AFTER = 300.0  # an upload still not acknowledged after this long is reported, not hidden


@dataclass
class Ledger:
    """What the users saw. Appends from many threads: lists and dict items are atomic in CPython,
    but the acknowledged set is read while written, so a lock guards it."""

    responses: list[tuple[float, int, str]] = field(default_factory=list)  # time, status, what
    acknowledged: dict[str, tuple[int, int]] = field(default_factory=dict)  # key → (user, video)
    seen: dict[int, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    unacknowledged: list[str] = field(default_factory=list)  # uploads given up (should be none)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # unexpected 4xx
    tokens: dict[int, str] = field(default_factory=dict)  # user id → token (to download outputs)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, status: int, what: str) -> None:
        self.responses.append((time.time(), status, what))

    def ack(self, key: str, user: int, video_id: int) -> None:
        with self.lock:
            self.acknowledged[key] = (user, video_id)


@dataclass
class User:
    index: int
    user_id: int
    token: str
    edge: str  # nginx: where uploads go
    api: str  # the API itself: where statuses are read (polling is not what is measured)
    clip: Path
    ledger: Ledger
    in_flight: threading.Semaphore
    stop: threading.Event  # no new uploads (those under way finish)
    abandon: threading.Event  # stop watching too

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def run(self) -> None:
        uploads = 0
        with httpx.Client(base_url=self.edge, timeout=60) as edge, \
                httpx.Client(base_url=self.api, timeout=30) as api:  # fmt: skip
            while not self.stop.is_set():
                kind = "tus" if (uploads + self.index) % 2 else "multipart"
                with self.in_flight:
                    video_id = (self._tus if kind == "tus" else self._multipart)(edge)
                uploads += 1
                if video_id is not None:
                    self._watch(api, video_id)

    # ---------------------------------------------------------------- uploads ---------------
    def _multipart(self, client: httpx.Client) -> int | None:
        key = f"soak-{self.index}-{uuid.uuid4().hex}"
        started = time.monotonic()
        while time.monotonic() - started < GIVE_UP_AFTER:
            try:
                with self.clip.open("rb") as f:
                    response = client.post(
                        "/api/videos/upload", headers={**self.auth, "Idempotency-Key": key},
                        data={"title": key}, files={"video_file": (self.clip.name, f, "video/mp4")},
                    )  # fmt: skip
            except httpx.HTTPError:
                self.ledger.answer(0, "multipart")
                time.sleep(1)
                continue
            self.ledger.answer(response.status_code, "multipart")
            if response.status_code in (200, 202):
                video_id = int(response.json()["video_id"])
                self.ledger.ack(key, self.user_id, video_id)
                return video_id
            if response.status_code not in RETRYABLE:
                self.ledger.rejected.append((key, response.status_code, response.text[:200]))
                return None
            time.sleep(_wait(response))
        self.ledger.unacknowledged.append(key)
        return None

    def _tus(self, client: httpx.Client) -> int | None:
        data = self.clip.read_bytes()
        title = f"soak-{self.index}-{uuid.uuid4().hex}"
        started = time.monotonic()
        headers = {**self.auth, "Tus-Resumable": "1.0.0"}
        meta = f"title {base64.b64encode(title.encode()).decode()}"
        location = None
        while location is None and time.monotonic() - started < GIVE_UP_AFTER:
            response = self._send(client, "POST", "/api/uploads", {
                **headers, "Upload-Length": str(len(data)), "Upload-Metadata": meta})  # fmt: skip
            if response is not None and response.status_code == 201:
                location = response.headers["location"]
            elif response is not None and response.status_code not in RETRYABLE:
                self.ledger.rejected.append((title, response.status_code, response.text[:200]))
                return None
        offset = 0
        while location is not None and time.monotonic() - started < GIVE_UP_AFTER:
            response = self._send(client, "PATCH", location, {
                **headers, "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream"}, data[offset:offset + CHUNK])  # fmt: skip
            if response is not None and response.status_code == 204:
                offset = int(response.headers["upload-offset"])
            else:  # cut, refused or out of step: ask the server where it stands
                head = self._send(client, "HEAD", location, headers)
                if head is None or head.status_code != 200:
                    continue
                offset = int(head.headers["upload-offset"])
                response = head
            if offset == len(data) and response.headers.get("x-video-id"):
                video_id = int(response.headers["x-video-id"])
                self.ledger.ack(location, self.user_id, video_id)
                return video_id
        self.ledger.unacknowledged.append(title)
        return None

    def _send(
        self, client: httpx.Client, method: str, url: str, headers: dict[str, str],
        body: bytes | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        try:
            response = client.request(method, url, headers=headers, content=body)
        except httpx.HTTPError:
            self.ledger.answer(0, f"tus {method}")
            time.sleep(1)
            return None
        self.ledger.answer(response.status_code, f"tus {method}")
        if response.status_code in RETRYABLE:
            time.sleep(_wait(response))
        return response

    # ---------------------------------------------------------------- watching --------------
    def _watch(self, client: httpx.Client, video_id: int) -> None:
        """Poll the video (the API itself, every second) until it ends; statuses are kept."""
        while True:
            try:
                response = client.get(f"/api/videos/{video_id}", headers=self.auth)
            except httpx.HTTPError:
                time.sleep(1)
                continue
            if response.status_code == 200:
                status = response.json()["status"]
                self.ledger.seen[video_id].append((time.time(), status))
                if status in TERMINAL:
                    return
            elif response.status_code == 404:
                self.ledger.seen[video_id].append((time.time(), "missing"))
                return
            if self.abandon.is_set():  # the drain's deadline passed: the soak reports it
                return
            time.sleep(1)


def _wait(response: httpx.Response) -> float:
    try:
        return min(10.0, max(0.5, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0
