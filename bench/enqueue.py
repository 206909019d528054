"""The enqueue rate: real Celery messages through core.jobs.dispatch into a Redis of its own.
Measured in a child process (`python -m bench.enqueue COUNT`), whose settings come from its
environment like any producer's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from devstack.servers import REPO, Redis


def send_messages(count: int) -> float:
    """Seconds to publish `count` messages, after one warm-up (the connection)."""
    from core.jobs.dispatch import JobPublisher, process_video_message
    from core.settings import get_settings

    publisher = JobPublisher(get_settings(), name="bench-enqueue")
    publisher.send(process_video_message(0, "warm-up"))
    started = time.perf_counter()
    for i in range(count):
        publisher.send(process_video_message(i, f"bench-{i}"))
    return time.perf_counter() - started


def enqueue_rate(count: int) -> dict[str, Any]:
    redis = Redis().start()
    try:
        env = {**os.environ, "CELERY_BROKER_URL": redis.url, "CELERY_QUEUE": "bench-enqueue",
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        out = subprocess.run([sys.executable, "-m", "bench.enqueue", str(count)], cwd=REPO,
                             env=env, check=True, capture_output=True, text=True, timeout=600)  # fmt: skip
        seconds = float(out.stdout.strip().splitlines()[-1])
    finally:
        redis.stop()
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
    }


if __name__ == "__main__":
    print(send_messages(int(sys.argv[1])))
