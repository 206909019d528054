"""tus in `make bench`: API memory during one large tus upload (one PATCH streaming the whole
file), and what a cut connection costs — bytes sent twice and time — against the same upload
uninterrupted."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psutil

from devstack.stack import Stack

HEADER = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12  # sniffs as MP4


def _tus(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}


def create(url: str, token: str, length: int, title: str = "bench") -> str:
    meta = f"title {base64.b64encode(title.encode()).decode()}"
    response = httpx.post(url + "/api/uploads", timeout=60, headers={
        **_tus(token), "Upload-Length": str(length), "Upload-Metadata": meta})  # fmt: skip
    response.raise_for_status()
    return url + response.headers["location"]


def patch(upload: str, token: str, offset: int, body: Any) -> httpx.Response:
    return httpx.patch(upload, content=body, timeout=600, headers={
        **_tus(token), "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})  # fmt: skip


def _rss_during(stack: Stack, action: Callable[[], int]) -> dict[str, Any]:
    assert stack.api is not None and stack.api.proc is not None
    workers = psutil.Process(stack.api.proc.pid).children()

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


def big_tus_memory(stack: Stack, megabytes: int, token: str) -> dict[str, Any]:
    length = len(HEADER) + megabytes * 2**20

    def body() -> Iterator[bytes]:
        yield HEADER
        chunk = b"\x00" * (1 << 20)
        for _ in range(megabytes):
            yield chunk

    def send() -> int:
        upload = create(stack.base_url, token, length, "big tus")
        return patch(upload, token, 0, body()).status_code

    return {"megabytes": megabytes, **_rss_during(stack, send)}


def resume_overhead(stack: Stack, token: str, payload: bytes, runs: int = 3) -> dict[str, Any]:
    """The same upload whole, and cut at half (the client's stream dies) then resumed after a
    HEAD: median seconds of each, and the bytes the resumed upload sent twice."""

    def whole() -> float:
        started = time.perf_counter()
        upload = create(stack.base_url, token, len(payload))
        assert patch(upload, token, 0, payload).status_code == 204
        return time.perf_counter() - started

    def cut() -> tuple[float, int]:
        half = len(payload) // 2
        started = time.perf_counter()
        upload = create(stack.base_url, token, len(payload))

        def dying() -> Iterator[bytes]:
            for i in range(0, half, 1 << 16):
                yield payload[i : min(i + (1 << 16), half)]
            raise ConnectionError("signal lost")

        with contextlib.suppress(Exception):  # the client's side of a dropped connection
            patch(upload, token, 0, dying())
        offset = -1
        for _ in range(100):  # until the server has recorded the cut PATCH
            head = httpx.head(upload, headers=_tus(token), timeout=30)
            offset = int(head.headers["upload-offset"])
            probe = patch(upload, token, offset, b"")
            if probe.status_code == 204:
                break
            time.sleep(0.05)
        assert patch(upload, token, offset, payload[offset:]).status_code == 204
        return time.perf_counter() - started, half - offset

    wholes = sorted(whole() for _ in range(runs))
    cuts = sorted((cut() for _ in range(runs)), key=lambda r: r[0])
    return {"bytes": len(payload), "whole_s": round(wholes[runs // 2], 3),
            "cut_and_resumed_s": round(cuts[runs // 2][0], 3),
            "resent_bytes_max": max(c[1] for c in cuts)}  # fmt: skip
