"""The worker tier: N jobs uploaded through the real path while the workers are stopped, then
drained by one worker process per core — with local storage (the efficiency target) and with S3
(reported apart, with where a job's time goes) — against the same FFmpeg commands (probe,
transcode, thumbnail) run bare with the same parallelism, in the same run."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.web import BENCH_APP, token
from core.settings import Settings
from devstack.servers import wait_until
from devstack.services import Services
from devstack.stack import Stack
from worker.media import commands
from worker.media.probe import accept, probe
from worker.media.profiles import profile_from
from worker.media.runner import run

PHASES = ("download", "probe", "transcode", "thumbnail", "upload")


def worker_tier(jobs: int, clip: Path, root: Path) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    bare = bare_ffmpeg(clip, jobs, cores, root / "bare-ffmpeg")
    local = drain(jobs, clip, root / "workers-local", s3=False)
    s3 = drain(jobs, clip, root / "workers-s3", s3=True)
    return {"reelforge": local, "s3": s3, "bare": bare,
            "efficiency": round(bare["wall_s"] / local["wall_s"], 3),
            "efficiency_s3": round(bare["wall_s"] / s3["wall_s"], 3)}  # fmt: skip


def drain(jobs: int, clip: Path, folder: Path, *, s3: bool) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    stack = Stack(folder, Services.start(folder, s3=s3), api_server="gunicorn",
                  settings={**BENCH_APP, "WORKER_CONCURRENCY": str(cores)})  # fmt: skip
    try:
        stack.start(worker=False)
        headers = {"Authorization": f"Bearer {token(stack.url)}"}
        payload = clip.read_bytes()
        ids = []
        for i in range(jobs):  # through the real path, while the workers are stopped
            r = httpx.post(stack.url + "/api/videos/upload", headers=headers, data={"title": f"j{i}"},
                           files={"video_file": ("c.mp4", payload, "video/mp4")}, timeout=120)  # fmt: skip
            if r.status_code != 202:
                raise RuntimeError(f"benchmark upload refused: {r.status_code} {r.text[:200]}")
            ids.append(r.json()["video_id"])
        stack.start_worker()
        started = time.monotonic()
        wait_until(lambda: _finished(stack, ids), 3600, "the benchmark jobs", interval=0.5)
        wall = time.monotonic() - started
        rows = _job_rows(stack, ids)
        output_seconds = sum(r["duration"] for r in rows)
        phases = {p: round(stack.worker_metric("reelforge_worker_phase_seconds_total", phase=p), 2)
                  for p in PHASES}  # fmt: skip
        return {"jobs": len(ids), "processed": sum(r["status"] == "processed" for r in rows),
                "wall_s": round(wall, 2), "jobs_per_min": round(len(ids) / wall * 60, 2),
                "realtime_factor": round(output_seconds / wall, 2),
                "avg_queue_wait_s": round(sum(r["wait"] for r in rows) / len(rows), 2),
                "concurrency": cores, "storage": "s3" if s3 else "local",
                "phase_seconds": phases}  # fmt: skip
    finally:
        stack.stop()


def _finished(stack: Stack, ids: list[int]) -> bool:
    return all(r["status"] in ("processed", "failed") for r in _job_rows(stack, ids))


def _job_rows(stack: Stack, ids: list[int]) -> list[dict[str, Any]]:
    url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, coalesce(duration_seconds, 0), extract(epoch FROM started_at - uploaded_at) "
            "FROM video WHERE id = ANY(%s)", (ids,)).fetchall()  # fmt: skip
    return [{"status": s, "duration": float(d), "wait": float(w or 0)} for s, d, w in rows]


def bare_ffmpeg(clip: Path, jobs: int, parallel: int, folder: Path) -> dict[str, Any]:
    settings = Settings(worker_concurrency=parallel)
    profile = profile_from(settings)
    folder.mkdir(parents=True, exist_ok=True)

    def one(i: int) -> None:
        info = accept(probe("ffprobe", clip), settings)
        out, thumb = folder / f"{i}.mp4", folder / f"{i}.jpg"
        run(commands.transcode_args("ffmpeg", clip, out, profile, info.fps), timeout=3600,
            on_progress=lambda _: None)  # fmt: skip
        run(commands.thumbnail_args("ffmpeg", clip, thumb, profile, 1.0), timeout=60)

    started = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(jobs)))
    wall = time.monotonic() - started
    return {"jobs": jobs, "wall_s": round(wall, 2), "jobs_per_min": round(jobs / wall * 60, 2)}
