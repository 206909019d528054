"""tus in `make bench`: API memory during one large tus upload (one PATCH streaming the whole
file), and what a cut connection costs — bytes sent twice and time — against the same upload
uninterrupted."""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.locust_run import median_run, pair_ratio, run_locust, spread
from bench.memory import rss_during
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

    return {"megabytes": megabytes, **rss_during(stack, send)}


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


TUS_TARGETS = [
    ("multipart", "UploadUser", {}),
    ("bare", "UploadUser", {}),
    ("tus", "TusUser", {}),
    ("tus_chunks", "TusUser", {"BENCH_TUS_CHUNK": str(5 * 2**20)}),
]


def tus_phases(
    reel: Stack,
    bare: Stack,
    users_list: list[int],
    seconds: int,
    rounds: int,
    clip: Path,
    root: Path,
    tokens: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """tus whole-file PATCH, tus in 5 MiB chunks, multipart and the bare endpoint at the same
    users, each round running the four in a rotated order."""
    rows = []
    for users in users_list:
        row: dict[str, Any] = {"users": users, "rounds": []}
        for round_no in range(rounds):
            shift = round_no % len(TUS_TARGETS)
            pair: dict[str, Any] = {}
            for name, user_class, env in TUS_TARGETS[shift:] + TUS_TARGETS[:shift]:
                out = root / "locust" / f"tus-{name}-{users}-{round_no}"
                out.mkdir(parents=True, exist_ok=True)
                stack = bare if name == "bare" else reel
                pair[name] = run_locust(
                    stack.url, users, seconds, clip, out, user_class, {**env, **(tokens or {})}
                )
                print(
                    f"  tus {users:4} users r{round_no} {name:10} {pair[name]['throughput']:7} ok/s "
                    f"p95 {pair[name]['p95_ms']:8.0f} ms errors {pair[name]['errors_pct']}%",
                    flush=True,
                )
            row["rounds"].append(pair)
        for name, _, _ in TUS_TARGETS:
            row[name] = median_run([pair[name] for pair in row["rounds"]])
        for label, a, b in (
            ("tus_vs_bare", "tus", "bare"),
            ("tus_vs_multipart", "tus", "multipart"),
            ("chunks_vs_bare", "tus_chunks", "bare"),
            ("multipart_vs_bare", "multipart", "bare"),
        ):
            row[label] = spread([pair_ratio(p, a, b, "throughput") for p in row["rounds"]])
        rows.append(row)
    return rows
