"""Signed webhooks through real processes (Postgres, Redis, the worker, the threaded deliverer):
delivered and verifiable with the `standardwebhooks` library, retried on failure, not following
redirects, an endpoint disabled with its reason, and a lost delivery message re-sent by the
reconciler (the outbox row survives)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from standardwebhooks import Webhook as Verifier

from devstack.stack import Stack
from tests.api_client import Api
from tests.webhook_receiver import Answer, Receiver


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(script: list[Answer] | None = None) -> Receiver:
        made.append(Receiver(script))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _hook(api: Api, auth: dict[str, str], url: str, events: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    body = {"url": url, **({"events": events} if events else {})}
    response = api.http.post("/api/webhooks", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _log(api: Api, auth: dict[str, str], hook_id: int) -> list[dict]:  # type: ignore[type-arg]
    response = api.http.get(f"/api/webhooks/{hook_id}/deliveries", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _settled(api: Api, auth: dict[str, str], hook_id: int, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = _log(api, auth, hook_id)
        if log and log[0]["status"] != "pending":
            return log[0]
        time.sleep(0.2)
    raise AssertionError(f"the delivery never settled: {_log(api, auth, hook_id)}")


def test_a_processed_video_is_delivered_signed(
    pg_stack: Stack, clip_5s: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    api = Api(pg_stack.base_url)
    auth = api.user()
    receiver = receiver_factory()
    hook = _hook(api, auth, receiver.url + "/hooks/reelforge", ["video.processed"])
    video_id = api.processed_video(auth, clip_5s)
    (got,) = receiver.wait_for(1)
    assert got.path == "/hooks/reelforge"
    payload = Verifier(hook["secret"]).verify(got.body, got.headers)  # raises if not genuine
    assert payload["type"] == "video.processed"
    data = payload["data"]
    assert (data["video_id"], data["status"], data["error"]) == (video_id, "processed", None)
    assert data["processed_url"] == f"/api/videos/{video_id}/file?variant=processed"
    assert data["status_url"] == f"/api/videos/{video_id}"
    assert data["profile"] == "reel"
    assert [(o["kind"], o["width"], o["height"]) for o in data["outputs"]] == [
        ("mp4", 1280, 720),
        ("thumbnail", None, None),
    ]
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(Exception):  # noqa: B017 - any tampering fails verification
        Verifier(hook["secret"]).verify(got.body.replace(b"processed", b"failed", 1), got.headers)
    entry = _settled(api, auth, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 1, 200)
    assert entry["id"] == got.headers["webhook-id"] and entry["video_id"] == video_id


def test_a_failing_receiver_is_retried_until_it_answers(
    pg_stack: Stack, clip_5s: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    api = Api(pg_stack.base_url)
    auth = api.user()
    receiver = receiver_factory([Answer(500, body=b"x" * 5000), Answer(503), Answer(204, body=b"")])
    hook = _hook(api, auth, receiver.url + "/h")
    api.processed_video(auth, clip_5s)
    attempts = receiver.wait_for(3)
    assert len({a.headers["webhook-id"] for a in attempts}) == 1  # the same message each time
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(g >= 0.7 for g in gaps), gaps  # WEBHOOK_RETRY_SCHEDULE_SECONDS=[1,1,1], jittered
    entry = _settled(api, auth, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 3, 204)
    first_failure = _log(api, auth, hook["id"])[0]
    assert (
        first_failure["last_response"] is not None and len(first_failure["last_response"]) <= 1024
    )
    hooks = api.http.get("/api/webhooks", headers=auth).json()
    assert hooks[0]["enabled"] and hooks[0]["consecutive_failures"] == 0


def test_redirects_are_not_followed_and_a_dead_endpoint_is_disabled_with_its_reason(
    pg_stack: Stack, clip_5s: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    api = Api(pg_stack.base_url)
    auth = api.user()
    elsewhere = receiver_factory()
    receiver = receiver_factory([Answer(302, headers={"Location": elsewhere.url + "/stolen"})])
    hook = _hook(api, auth, receiver.url + "/h")
    api.processed_video(auth, clip_5s)
    entry = _settled(api, auth, hook["id"])
    assert entry["status"] == "failed" and entry["attempts"] == 4  # 1 + 3 retries
    assert entry["last_status_code"] == 302 and "redirects are not followed" in entry["last_error"]
    assert elsewhere.received == []
    (listed,) = api.http.get("/api/webhooks", headers=auth).json()
    assert listed["enabled"] is False
    assert listed["disabled_reason"].startswith("Disabled after 4 failed attempts in a row")
    # A disabled endpoint gets no new deliveries.
    api.processed_video(auth, clip_5s)
    time.sleep(2)
    assert len(_log(api, auth, hook["id"])) == 1 and len(receiver.received) == 4


def test_a_lost_delivery_message_is_sent_again_by_the_reconciler(
    pg_stack: Stack, clip_5s: Path, receiver_factory: Callable[..., Receiver], redis_url: str
) -> None:
    api = Api(pg_stack.base_url)
    auth = api.user()
    receiver = receiver_factory()
    hook = _hook(api, auth, receiver.url + "/h")
    deliverer = pg_stack.processes["webhooks"]
    deliverer.stop()
    try:
        video_id = api.processed_video(auth, clip_5s)
        (pending,) = _log(api, auth, hook["id"])
        assert pending["status"] == "pending" and pending["attempts"] == 0
        broker = redis.Redis.from_url(redis_url)
        assert broker.delete("webhooks") == 1  # the message is lost; the outbox row is not
    finally:
        pg_stack.start_webhooks()
    (got,) = receiver.wait_for(1, timeout=60)
    assert json.loads(got.body)["data"]["video_id"] == video_id
    assert _settled(api, auth, hook["id"])["status"] == "delivered"
