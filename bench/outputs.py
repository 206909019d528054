"""Output profiles measured (`python -m bench --stages outputs`), all in one run on one clip (60 s,
1920×1080 at 12 Mbit/s with sound, as a phone records):

- the HLS ladder in one FFmpeg process (decode once, split to every rendition) against the same
  renditions made by separate invocations (one decode each) — target ≥ 1.3×;
- the worker against the bare commands it runs for an `hls` job (ladder, thumbnail, storyboard,
  animated preview) — target ≥ 0.95;
- per profile on the stack, idle fleet: time to ready (upload acknowledged → processed) and output
  bytes per input minute."""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.web import BENCH_APP, token
from core.profiles import load_profiles
from core.settings import Settings
from devstack.servers import wait_until
from devstack.services import Services
from devstack.stack import Stack
from worker.media import commands
from worker.media.ladder import ladder_args, plan_ladder
from worker.media.previews import animated_args, plan_storyboard, storyboard_args
from worker.media.probe import accept, probe
from worker.media.profiles import profile_from
from worker.media.runner import run

PROFILES = ("reel", "mp4", "hls")
PHASES = "reelforge_worker_phase_seconds_total"  # the worker's time per phase (worker/metrics.py)


def camera_clip(path: Path, seconds: int) -> Path:
    """A phone-like source: 1080p30 with fine moving detail (sensor noise) at 12 Mbit/s, the
    bitrate phones record 1080p at, and a sound track (a tone with a slow tremolo). Its decode
    costs what a real upload's does, which a clean synthetic picture at 2.4 Mbit/s would not."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        video = f"testsrc2=s=1920x1080:r=30:d={seconds},noise=alls=10:allf=t+u"
        sound = f"sine=frequency=300:duration={seconds},tremolo=f=2:d=0.7"
        args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi"]
        args += ["-i", sound, "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M"]
        args += ["-maxrate", "12M", "-bufsize", "24M", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        args += ["-b:a", "128k", "-shortest", str(path)]
        subprocess.run(args, check=True, timeout=1200)
    return path


def _timed(args: list[str]) -> float:
    started = time.monotonic()
    run(args, timeout=3600, on_progress=lambda _: None)
    return time.monotonic() - started


def ladder_vs_separate(clip: Path, folder: Path) -> dict[str, Any]:
    """Threads as the stack's worker (concurrency 1: FFmpeg gets every core). The separate
    invocations are what a per-rendition pipeline runs (PeerTube runs one FFmpeg per
    resolution): each rendition complete on its own, its sound included."""
    settings = Settings(worker_concurrency=1)
    profile = profile_from(settings, load_profiles()["hls"])
    info = accept(probe("ffprobe", clip), settings)
    plan = plan_ladder(info.display, profile.renditions)
    shutil.rmtree(folder, ignore_errors=True)
    one = ladder_args(
        "ffmpeg", clip, folder / "one", profile, plan, info.fps, info.stream_index, info.audio_index
    )
    one_s = _timed(one)
    separate_s = 0.0
    for rendition in plan:
        args = ladder_args(
            "ffmpeg", clip, folder / f"sep-{rendition.name}", profile, [rendition], info.fps,
            info.stream_index, info.audio_index,
        )  # fmt: skip
        separate_s += _timed(args)
    bare_extra = _bare_previews(clip, folder, profile, info)
    return {
        "renditions": [r.name for r in plan],
        "one_process_s": round(one_s, 2),
        "separate_s": round(separate_s, 2),
        "speedup": round(separate_s / one_s, 3),
        "bare_hls_job_s": round(one_s + bare_extra, 2),
    }


def _bare_previews(clip: Path, folder: Path, profile: Any, info: Any) -> float:
    """What an hls job runs besides the ladder: the thumbnail, storyboard and animated preview."""
    spent = _timed(
        commands.thumbnail_args(
            "ffmpeg", clip, folder / "t.jpg", profile, 1.0, info.stream_index, display=info.display
        )
    )
    board = profile.previews.storyboard
    plan = plan_storyboard(
        info.duration, info.display, board.every_seconds, board.width, board.columns
    )
    spent += _timed(storyboard_args("ffmpeg", clip, folder / "s.jpg", plan, info.stream_index))
    animated = profile.previews.animated
    spent += _timed(
        animated_args(
            "ffmpeg",
            clip,
            folder / "p.webp",
            animated.at_seconds,
            animated.seconds,
            animated.width,
            info.stream_index,
        )
    )
    return spent


def time_to_ready(clip: Path, folder: Path) -> dict[str, Any]:
    """Each profile in turn on an idle stack (one worker): acknowledged → processed, and bytes."""
    stack = Stack(
        folder,
        Services.start(folder),
        api_server="gunicorn",
        settings={**BENCH_APP, "WORKER_CONCURRENCY": "1"},
    )
    found: dict[str, Any] = {}
    try:
        stack.start()
        headers = {"Authorization": f"Bearer {token(stack.url)}"}
        payload = clip.read_bytes()
        minutes = float(accept(probe("ffprobe", clip), Settings()).duration) / 60
        for name in PROFILES:
            transcoded = stack.worker_metric(PHASES, phase="transcode")
            r = httpx.post(
                stack.url + "/api/videos/upload",
                headers=headers,
                data={"title": name, "profile": name},
                files={"video_file": ("c.mp4", payload, "video/mp4")},
                timeout=120,
            )
            acknowledged = time.monotonic()
            if r.status_code != 202:
                raise RuntimeError(f"benchmark upload refused: {r.status_code} {r.text[:200]}")
            video_id = r.json()["video_id"]
            wait_until(
                functools.partial(_finished, stack, video_id),
                1800,
                f"the {name} job",
                interval=0.2,
            )
            status, output_bytes, busy = _row(stack, video_id)
            found[name] = {
                "status": status,
                "ready_s": round(time.monotonic() - acknowledged, 2),
                "worker_s": round(busy, 2),
                # the job's FFmpeg transcode (the ladder for hls), as the worker ran it
                "transcode_s": round(
                    stack.worker_metric(PHASES, phase="transcode") - transcoded, 2
                ),
                "bytes_per_input_minute": int(output_bytes / minutes),
            }
    finally:
        stack.stop()
    return found


def _finished(stack: Stack, video_id: int) -> bool:
    return _row(stack, video_id)[0] in ("processed", "failed")


def _row(stack: Stack, video_id: int) -> tuple[str, int, float]:
    url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, output_bytes, extract(epoch FROM processed_at - started_at) "
            "FROM video WHERE id = %s",
            (video_id,),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"video {video_id} is gone")
    status, size, busy = row
    return str(status), int(size or 0), float(busy or 0)


def outputs_stage(seconds: int, root: Path) -> dict[str, Any]:
    clip = camera_clip(root / f"clip-{seconds}s-1080p-camera.mp4", seconds)
    ladder = ladder_vs_separate(clip, root / "ladder")
    ready = time_to_ready(clip, root / "outputs-stack")
    # The same ladder command, run by the worker (its transcode phase) and bare.
    worker_vs_bare = ladder["one_process_s"] / max(ready["hls"]["transcode_s"], 1e-6)
    whole_job = ladder["bare_hls_job_s"] / max(ready["hls"]["worker_s"], 1e-6)
    return {
        "clip_seconds": seconds,
        "ladder": ladder,
        "profiles": ready,
        "worker_vs_bare_hls": round(worker_vs_bare, 3),
        "worker_job_vs_bare_job_hls": round(whole_job, 3),
        "targets": {"ladder_speedup": 1.3, "worker_vs_bare_hls": 0.95},
    }
