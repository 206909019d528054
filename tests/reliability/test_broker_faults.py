"""The broker going away for seconds costs nothing: the worker survives every restart of Redis
and the jobs it was holding, or that Redis forgot, still end processed — none failed."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from devstack.servers import Redis, wait_until
from tests.api_client import Api
from tests.reliability.conftest import MakeStack

RESTARTS = 10


def _any_processing(api: Api, auth: dict[str, str], ids: list[int]) -> bool | None:
    return any(api.video(auth, v)["status"] == "processing" for v in ids) or None


def test_worker_survives_ten_redis_restarts_under_load(
    make_stack: MakeStack, clip_20s: Path, clip_small: Path
) -> None:
    stack = make_stack(WORKER_CONCURRENCY="2")
    api = Api(stack.base_url)
    auth = api.user()
    redis = stack.services.server(Redis)
    assert redis is not None and stack.worker is not None
    ids: list[int] = []
    for round_ in range(RESTARTS):
        clip = clip_20s if round_ % 2 == 0 else clip_small
        ids += [api.upload(auth, clip, title=f"r{round_}-{i}").json()["video_id"] for i in range(2)]
        wait_until(functools.partial(_any_processing, api, auth, list(ids)), 60,
                   "a job to be processing")  # fmt: skip
        redis.restart_empty(down_seconds=3)
        time.sleep(2)
        assert stack.worker.alive(), (
            f"the worker died on Redis restart {round_ + 1}:\n" + (stack.log("worker")[-3000:])
        )
    videos = [api.wait_for(auth, v, timeout=240) for v in ids]
    failed = [(v["id"], v["error"]) for v in videos if v["status"] != "processed"]
    assert not failed, failed
    assert "Unrecoverable error" not in stack.log("worker")
