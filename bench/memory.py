"""API memory during one large streamed upload: RSS of each gunicorn worker before, during and
after; growth is taken per worker (the one serving the upload may not be the largest)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psutil

from devstack.stack import Stack


def _body(megabytes: int) -> Iterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nbig\r\n'
    yield b'--b\r\nContent-Disposition: form-data; name="video_file"; filename="b.mp4"\r\n\r\n'
    yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12
    chunk = b"\x00" * (1 << 20)
    for _ in range(megabytes):
        yield chunk
    yield b"\r\n--b--\r\n"


def rss_during(stack: Stack, action: Callable[[], int]) -> dict[str, Any]:
    """Run `action` (it returns an HTTP status) while sampling every gunicorn worker's RSS."""
    assert stack.api is not None and stack.api.proc is not None
    workers = psutil.Process(stack.api.proc.pid).children()  # gunicorn's workers

    def rss() -> list[float]:
        return [w.memory_info().rss / 2**20 for w in workers]

    before = rss()
    peak = list(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[:] = [max(p, now) for p, now in zip(peak, rss(), strict=True)]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    status = action()
    done.set()
    sampler.join()
    time.sleep(1)
    after = rss()
    peak = [max(p, a) for p, a in zip(peak, after, strict=True)]
    growth = [p - b for p, b in zip(peak, before, strict=True)]
    busiest = growth.index(max(growth))
    return {"status": status, "rss_before_mb": round(before[busiest], 1),
            "rss_peak_mb": round(peak[busiest], 1), "rss_after_mb": round(after[busiest], 1),
            "growth_mb": round(growth[busiest], 1)}  # fmt: skip


def big_upload_memory(stack: Stack, megabytes: int, token: str) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "multipart/form-data; boundary=b",
    }

    def send() -> int:
        return httpx.post(stack.base_url + "/api/videos/upload", headers=headers,
                          content=_body(megabytes), timeout=600).status_code  # fmt: skip

    return {"megabytes": megabytes, **rss_during(stack, send)}
