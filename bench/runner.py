"""`python -m bench [--quick | --smoke] [--out DIR]`: run the stages, keep partial results, and
write docs/BENCHMARKS.md, docs/bench/results.json and PNG plots (or the same under --out).

    full     minutes per phase, 20 worker jobs
    --quick  the same phases, shorter (a laptop)
    --smoke  seconds; proves the harness end to end (run by make test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from bench import simulate
from bench.chaos import SoakPlan, soak, soak_clip
from bench.enqueue import enqueue_rate
from bench.live import eta_and_webhooks, sse_fanout
from bench.outputs import outputs_stage
from bench.page import page_stage
from bench.report import write_report
from bench.report_sim import write_simulation
from bench.scale import scale_stage
from bench.scheduling import fairness, lanes, pickup, rss_4k
from bench.web import BENCH_APP, BENCH_NGINX, default_limits, web_tier
from bench.workers import worker_tier
from devstack.servers import REPO


@dataclass
class Mode:
    phases: list[tuple[str, int, int]]  # name, users, measured seconds (after the warm-up)
    jobs: int
    big_upload_mb: int
    enqueue_count: int
    clip_seconds: int
    defaults_run: tuple[int, int]  # users, seconds
    fair_jobs: int = 40  # user A's backlog in the fairness run
    long_jobs: int = 10  # long inputs ahead of the short clip
    pickup_samples: int = 20
    rss_seconds: int = 10  # length of the 4K input
    live_jobs: int = 12  # ETA accuracy and webhook latency: jobs queued at once
    sse_streams: int = 1000  # concurrent SSE streams on one API process
    sse_rounds: int = 20  # × 50 progress notices
    rounds: int = 3  # web tier: rounds per phase and target, alternating targets
    tus_users: tuple[int, ...] = (5, 100, 300)  # tus vs multipart vs bare at these users
    tus_seconds: int = 20
    floor_users: tuple[int, ...] = (100, 200, 300)  # the floor endpoint (bench/floor_app.py) too
    scale_levels: tuple[str, ...] = ("L1", "L2", "L3", "L4")  # bench/scale_seed.py
    scale_samples: int = 100  # timed calls per query and size
    chaos_runs: tuple[tuple[int, int], ...] = ((900, 7), (900, 11))  # soak seconds, seed
    outputs_seconds: int = 60  # the output profiles' clip (bench/outputs.py)


MODES = {
    "full": Mode([("sanity", 5, 60), ("ramp 100", 100, 60), ("ramp 200", 200, 60),
                  ("ramp 300", 300, 60), ("sustained 40", 40, 120)], 20, 1024, 5000, 60, (20, 30),
                  tus_seconds=40),
    "quick": Mode([("sanity", 5, 15), ("ramp 100", 100, 20), ("ramp 200", 200, 25),
                   ("ramp 300", 300, 30), ("sustained 40", 40, 25)], 6, 1024, 3000, 60, (20, 15),
                  20, 6, 10, 5, live_jobs=8, chaos_runs=((300, 7),)),
    "smoke": Mode([("sanity", 2, 4), ("ramp", 6, 4)], 2, 64, 300, 4, (4, 3), 3, 2, 3, 1, rounds=2,
                  tus_users=(2,), tus_seconds=4, live_jobs=3, sse_streams=20, sse_rounds=3,
                  floor_users=(6,), scale_levels=("L1", "L2"), scale_samples=10, chaos_runs=(),
                  outputs_seconds=8),
}  # fmt: skip


def make_clip(path: Path, seconds: int, size: str = "1920x1080") -> Path:
    """An 18 MB, 60 s, 1920×1080 H.264 MP4 (the original's size class); shorter for --smoke."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        bitrate = "2400k" if seconds >= 60 else "800k"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=s={size}:r=30:d={seconds}", "-c:v", "libx264", "-preset",
                        "veryfast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", "4800k",
                        "-pix_fmt", "yuv420p", str(path)], check=True, timeout=600)  # fmt: skip
    return path


def stages(mode: Mode, clip: Path, root: Path) -> list[tuple[str, str, Callable[[], Any]]]:
    users, seconds = mode.defaults_run
    return [
        ("web", "web tier (workers paused)",
         lambda: web_tier(mode.phases, mode.big_upload_mb, clip, root, mode.rounds,
                          list(mode.tus_users), mode.tus_seconds, list(mode.floor_users))),
        ("defaults", "shipped limits", lambda: default_limits(users, seconds, clip, root)),
        ("workers", "worker tier", lambda: worker_tier(mode.jobs, clip, root)),
        ("enqueue", "enqueue rate", lambda: enqueue_rate(mode.enqueue_count)),
        ("scheduling", "scheduling, pick-up latency, 4K memory",
         lambda: scheduling_stage(mode, clip, root)),
        ("live", "ETA accuracy, webhook latency, SSE fan-out",
         lambda: live_stage(mode, root)),
        ("scale", "scale: every hot path at 1k … 1M queued jobs and 10k … 10M votes",
         lambda: scale_stage(list(mode.scale_levels), mode.scale_samples,
                             1.0 if mode.scale_samples < 50 else 5.0)),
        ("page", "the web client: bytes per page, time to interactive, upload vs the CLI",
         lambda: page_stage(clip, make_clip(root / "clip-4s.mp4", 4, "1280x720"), root)),
        ("outputs", "output profiles: the ladder in one process, time to ready per profile",
         lambda: outputs_stage(mode.outputs_seconds, root)),
        ("chaos", "chaos soak: faults of seconds under continuous uploads",
         lambda: chaos_stage(mode, root)),
    ]  # fmt: skip


def chaos_stage(mode: Mode, root: Path) -> dict[str, Any]:
    """Each soak run in turn (none in --smoke: `make test` runs a 2-minute one itself)."""
    if not mode.chaos_runs:
        return {"skipped": "smoke mode: tests/reliability/test_chaos_soak.py runs 2 minutes"}
    clip = soak_clip(root / "soak.mp4")
    return {f"run {i + 1}": soak(SoakPlan(seconds, seed=seed), clip, root / f"soak-{i}")
            for i, (seconds, seed) in enumerate(mode.chaos_runs)}  # fmt: skip


def scheduling_stage(mode: Mode, clip: Path, root: Path) -> dict[str, Any]:
    short = make_clip(root / "short.mp4", 2, size="320x240")
    return {"fairness": fairness(mode.fair_jobs, short, root),
            "lanes": lanes(clip, short, mode.long_jobs, root),
            "pickup": pickup(short, clip, mode.pickup_samples, root),
            "rss_4k": rss_4k(root, mode.rss_seconds)}  # fmt: skip


def live_stage(mode: Mode, root: Path) -> dict[str, Any]:
    clip = make_clip(root / "eta.mp4", 30, size="1280x720")
    return {"eta": eta_and_webhooks(clip, mode.live_jobs, root),
            "sse": sse_fanout(mode.sse_streams, mode.sse_rounds, root)}  # fmt: skip


def _clear_scratch(root: Path, keep: Path | None = None) -> None:
    """Remove the run's scratch folder (gigabytes of uploads), all but `keep`."""
    for path in root.iterdir():
        if path != keep:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
    if keep is None or not keep.exists():
        root.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument(
        "--stages",
        help="comma-separated stages to run again (web, defaults, workers, enqueue, scheduling, "
        "live, scale, chaos); the others are kept from OUT/bench/results.json",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="web-tier rounds per phase and target (default: the mode's, 3 in quick and full); "
        "a 2-5 %% question on a shared box needs more than 3",
    )
    parser.add_argument(
        "--soak-seconds",
        type=int,
        help="length of each chaos soak run (default: the mode's, 900 s in full, 300 s in quick)",
    )
    args = parser.parse_args()
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode = MODES[name] if args.rounds is None else replace(MODES[name], rounds=args.rounds)
    if args.soak_seconds is not None:
        runs = tuple((args.soak_seconds, seed) for _, seed in mode.chaos_runs)
        mode = replace(mode, chaos_runs=runs)
    if mode.rounds < 1:
        parser.error("--rounds must be at least 1")
    root = Path(tempfile.mkdtemp(prefix="reelforge-bench-"))
    clip = make_clip(
        REPO / "var" / "bench" / f"clip-{mode.clip_seconds}s-1080p.mp4", mode.clip_seconds
    )
    print(f"reelforge bench ({name}); clip {clip} {clip.stat().st_size / 1e6:.1f} MB", flush=True)
    results: dict[str, Any] = {
        "mode": name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "platform": platform.platform(), "python": platform.python_version()},
        "clip": {"path": clip.name, "megabytes": round(clip.stat().st_size / 1e6, 1),
                 "seconds": mode.clip_seconds, "size": "1920x1080"},
        "bench_limits": {"nginx": BENCH_NGINX, "app": BENCH_APP},
        "modes": {k: asdict(v) for k, v in MODES.items()},
    }  # fmt: skip
    partial = root / "partial-results.json"
    chosen = set(args.stages.split(",")) if args.stages else None
    if chosen is not None:  # re-run some stages; keep the rest of the last report's results
        kept = json.loads((args.out / "bench" / "results.json").read_text())
        results = {**kept, "date": results["date"], "machine": results["machine"]}
        earlier = kept.get("rerun") or {"stages": [], "others_from": kept["date"]}
        results["rerun"] = {
            "stages": sorted(chosen | set(earlier["stages"])),
            "others_from": earlier["others_from"],
        }
    # A killed run (SIGTERM, Ctrl-C) unwinds like a failed one: every stage stops the servers it
    # started in `finally`, and the scratch folder (gigabytes of uploads) is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for key, label, stage in stages(mode, clip, root):
            if chosen is not None and key not in chosen:
                continue
            print(label, flush=True)
            results[key] = stage()
            partial.write_text(json.dumps(results, indent=2))  # a failure keeps what was measured
    except BaseException:
        _clear_scratch(root, keep=partial)
        if partial.exists():
            print(f"stopped; what was measured: {partial}", flush=True)
        raise
    _clear_scratch(root)
    write_report(results, args.out)
    rf = float(results["workers"]["reelforge"]["realtime_factor"]) / int(
        results["workers"]["reelforge"]["concurrency"]
    )
    simulated = simulate.run_all(rf)
    write_simulation(simulated, simulate.favoured(simulated), rf, args.out)
    print(f"report: {args.out / 'BENCHMARKS.md'}", flush=True)
    return 0
