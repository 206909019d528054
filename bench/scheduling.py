"""The compute tier's scheduling, measured with real workers and FFmpeg:

- fairness: user A queues N jobs, then user B one; two slots. B's wait in job durations, and
  the time to drain everything — SCHEDULER=fair against SCHEDULER=fifo on the same workload;
- lanes: a short clip behind ten long inputs, one slot, fair (lanes) against fifo;
- pick-up latency: upload commit → claim, on an idle fleet and with a busy slot beside a free one;
- memory: peak resident memory of a worker child and its FFmpeg during one 4K job.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.web import BENCH_APP, token
from bench.workers import _job_rows
from devstack.servers import wait_until
from devstack.services import Services
from devstack.stack import Stack


def _stack(root: Path, **settings: str) -> Stack:
    base = {**BENCH_APP, "WORKER_CONCURRENCY": "2", "MAX_ACTIVE_JOBS_PER_USER": "0",
            "PROGRESS_INTERVAL_SECONDS": "0.5"}  # fmt: skip
    return Stack(root, Services.start(root), settings={**base, **settings}).start(worker=False)


def _upload(url: str, headers: dict[str, str], clip: Path, title: str) -> int:
    with clip.open("rb") as f:
        r = httpx.post(url + "/api/videos/upload", headers=headers, data={"title": title},
                       files={"video_file": ("c.mp4", f, "video/mp4")}, timeout=120)  # fmt: skip
    if r.status_code != 202:
        raise RuntimeError(f"benchmark upload refused: {r.status_code} {r.text[:200]}")
    return int(r.json()["video_id"])


def _times(stack: Stack, ids: list[int]) -> dict[int, tuple[str, float, float, float]]:
    """id -> (status, started, finished, uploaded) in seconds, from the rows."""
    import psycopg

    url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, status, extract(epoch FROM started_at), extract(epoch FROM processed_at),"
            " extract(epoch FROM uploaded_at) FROM video WHERE id = ANY(%s)", (ids,)).fetchall()  # fmt: skip
    return {r[0]: (r[1], float(r[2] or 0), float(r[3] or 0), float(r[4])) for r in rows}


def _all_processed(stack: Stack, ids: list[int]) -> bool:
    return all(r["status"] == "processed" for r in _job_rows(stack, ids))


def fairness(a_jobs: int, clip: Path, root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"a_jobs": a_jobs}
    for policy in ("fair", "fifo"):
        out[policy] = _fairness_run(policy, a_jobs, clip, root / f"fair-{policy}")
    out["throughput_ratio"] = round(out["fair"]["jobs_per_min"] / out["fifo"]["jobs_per_min"], 3)
    return out


def _fairness_run(policy: str, a_jobs: int, clip: Path, root: Path) -> dict[str, Any]:
    stack = _stack(root, SCHEDULER=policy)
    try:
        alice = {"Authorization": f"Bearer {token(stack.url)}"}
        bob = {"Authorization": f"Bearer {token(stack.url)}"}
        ids = [_upload(stack.url, alice, clip, f"a{i}") for i in range(a_jobs)]
        b_id = _upload(stack.url, bob, clip, "b")
        everything = [*ids, b_id]
        stack.start_worker()
        started = time.monotonic()
        wait_until(lambda: _all_processed(stack, everything), 1800, "the jobs", interval=0.25)
        wall = time.monotonic() - started
        rows = _times(stack, everything)
        first = min(r[1] for r in rows.values())
        average = statistics.mean(r[2] - r[1] for r in rows.values())
        waited = rows[b_id][1] - first
        return {"b_wait_s": round(waited, 2), "avg_job_s": round(average, 2),
                "b_wait_in_jobs": round(waited / average, 2), "wall_s": round(wall, 2),
                "jobs_per_min": round((a_jobs + 1) / wall * 60, 2)}  # fmt: skip
    finally:
        stack.stop()


def lanes(long_clip: Path, short_clip: Path, long_jobs: int, root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"long_jobs": long_jobs}
    for policy in ("fair", "fifo"):
        out[policy] = _lanes_run(policy, long_clip, short_clip, long_jobs, root / f"lanes-{policy}")
    return out


def _lanes_run(
    policy: str, long_clip: Path, short_clip: Path, long_jobs: int, root: Path
) -> dict[str, Any]:
    stack = _stack(root, SCHEDULER=policy, WORKER_CONCURRENCY="1",
                   SHORT_LANE_MAX_BYTES=str(short_clip.stat().st_size))  # fmt: skip
    try:
        auth = {"Authorization": f"Bearer {token(stack.url)}"}
        ids = [_upload(stack.url, auth, long_clip, f"long{i}") for i in range(long_jobs)]
        short = _upload(stack.url, auth, short_clip, "short")
        stack.start_worker()
        wait_until(lambda: _all_processed(stack, [short]), 3600, "the short clip", interval=0.25)
        rows = _times(stack, [*ids, short])
        first = min(r[1] for r in rows.values() if r[1])
        long_done = [r[2] - r[1] for i, r in rows.items() if i != short and r[2]]
        before = sum(1 for i, r in rows.items() if i != short and r[1] and r[1] < rows[short][1])
        return {"short_wait_s": round(rows[short][1] - first, 2),
                "long_job_s": round(statistics.mean(long_done), 2) if long_done else None,
                "long_jobs_before": before}  # fmt: skip
    finally:
        stack.stop()


def pickup(clip: Path, long_clip: Path, samples: int, root: Path) -> dict[str, Any]:
    stack = _stack(root / "pickup")
    try:
        stack.start_worker()
        auth = {"Authorization": f"Bearer {token(stack.url)}"}
        idle = _sequential(stack, auth, clip, samples)
        busy_id = _upload(stack.url, auth, long_clip, "busy")  # one slot busy, one free
        wait_until(lambda: _job_rows(stack, [busy_id])[0]["status"] == "processing", 60, "busy")
        loaded = _sequential(stack, auth, clip, samples)
        return {"samples": samples, "idle_p50_ms": _pct(idle, 50), "idle_p95_ms": _pct(idle, 95),
                "loaded_p50_ms": _pct(loaded, 50), "loaded_p95_ms": _pct(loaded, 95)}  # fmt: skip
    finally:
        stack.stop()


def _sequential(stack: Stack, auth: dict[str, str], clip: Path, samples: int) -> list[float]:
    latencies = []
    for i in range(samples):
        video_id = _upload(stack.url, auth, clip, f"p{i}")
        wait_until(functools.partial(_status_is_not, stack, video_id, "queued"), 60, "claim",
                   interval=0.02)  # fmt: skip
        _, started, _, uploaded = _times(stack, [video_id])[video_id]
        latencies.append((started - uploaded) * 1000)
        wait_until(functools.partial(_status_is, stack, video_id, "processed"), 120, "job")
    return latencies


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))], 1)


def rss_4k(root: Path, seconds: int) -> dict[str, Any]:
    clip = root / "clip-4k.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s=3840x2160:r=30:d={seconds}", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=600)  # fmt: skip
    stack = _stack(root / "rss", WORKER_CONCURRENCY="1", MAX_UPLOAD_BYTES=str(2**31))
    try:
        stack.start_worker()
        assert stack.worker is not None and stack.worker.proc is not None
        main = psutil.Process(stack.worker.proc.pid)
        peak = {"child_mb": 0.0, "ffmpeg_mb": 0.0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for child in main.children():
                    try:
                        peak["child_mb"] = max(peak["child_mb"], child.memory_info().rss / 2**20)
                        tools = sum(p.memory_info().rss for p in child.children(recursive=True))
                        peak["ffmpeg_mb"] = max(peak["ffmpeg_mb"], tools / 2**20)
                    except psutil.Error:
                        continue
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        auth = {"Authorization": f"Bearer {token(stack.url)}"}
        video_id = _upload(stack.url, auth, clip, "4k")
        wait_until(lambda: _job_rows(stack, [video_id])[0]["status"] in ("processed", "failed"),
                   600, "the 4K job")  # fmt: skip
        done.set()
        sampler.join()
        status = _job_rows(stack, [video_id])[0]["status"]
        return {"input": f"3840x2160 {seconds} s", "status": status,
                "worker_child_peak_mb": round(peak["child_mb"], 1),
                "ffmpeg_peak_mb": round(peak["ffmpeg_mb"], 1),
                "per_job_mb": round(peak["child_mb"] + peak["ffmpeg_mb"], 1)}  # fmt: skip
    finally:
        stack.stop()


def _status_is(stack: Stack, video_id: int, status: str) -> bool:
    return bool(_job_rows(stack, [video_id])[0]["status"] == status)


def _status_is_not(stack: Stack, video_id: int, status: str) -> bool:
    return not _status_is(stack, video_id, status)
