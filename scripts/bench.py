"""`make bench`: the original capacity tests re-run on the native production stack, each beside a
bare baseline measured in the same run. Writes docs/BENCHMARKS.md, docs/bench/results.json and
PNG plots (or the same under --out).

    python scripts/bench.py            full run (minutes per phase, 20 worker jobs)
    python scripts/bench.py --quick    the same phases, shorter (a laptop)
    python scripts/bench.py --smoke    seconds; proves the harness end to end (run by make test)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from tests.harness import VENV_BIN, free_port, wait_until  # noqa: E402
from tests.native_stack import NativeStack  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from bench_report import write_report  # noqa: E402

# Rate limits for the web-tier phases: all load comes from one IP, so per-IP limits would
# measure the limiter, not the service. They are written into the report.
BENCH_NGINX = {"RF_RATE_API": "10000r/s", "RF_BURST_API": "10000", "RF_RATE_AUTH": "10000r/s",
               "RF_BURST_AUTH": "10000", "RF_RATE_UPLOAD": "10000r/s", "RF_BURST_UPLOAD": "10000",
               "RF_CONN_PER_IP": "2000"}  # fmt: skip
BENCH_APP = {"RATE_LIMIT_DEFAULT": "1000000/minute", "RATE_LIMIT_UPLOAD": "1000000/minute",
             "RATE_LIMIT_AUTH": "1000000/minute", "BACKLOG_MAX_QUEUED": "0",
             "BACKLOG_MAX_OLDEST_SECONDS": "0", "MIN_FREE_DISK_BYTES": "0",
             # Each simulated user signs up and logs in once; at the default cost (12) 300 users'
             # bcrypt would eat the 2 vCPUs the uploads are measured on.
             "BCRYPT_ROUNDS": "10"}  # fmt: skip


@dataclass
class Mode:
    phases: list[tuple[str, int, int]]  # name, users, seconds
    jobs: int
    big_upload_mb: int
    enqueue_count: int
    clip_seconds: int
    defaults_run: tuple[int, int]  # users, seconds


MODES = {
    "full": Mode(
        [
            ("sanity", 5, 60),
            ("ramp 100", 100, 60),
            ("ramp 200", 200, 60),
            ("ramp 300", 300, 60),
            ("sustained 40", 40, 120),
        ],
        20,
        1024,
        5000,
        60,
        (20, 30),
    ),  # fmt: skip
    "quick": Mode(
        [
            ("sanity", 5, 20),
            ("ramp 100", 100, 20),
            ("ramp 200", 200, 20),
            ("ramp 300", 300, 20),
            ("sustained 40", 40, 30),
        ],
        6,
        1024,
        3000,
        60,
        (20, 15),
    ),  # fmt: skip
    "smoke": Mode([("sanity", 2, 4), ("ramp", 6, 4)], 2, 64, 300, 4, (4, 3)),
}


def make_clip(path: Path, seconds: int) -> Path:
    """An 18 MB, 60 s, 1920×1080 H.264 MP4 (the original's size class); shorter for --smoke."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        bitrate = "2400k" if seconds >= 60 else "800k"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=s=1920x1080:r=30:d={seconds}", "-c:v", "libx264", "-preset",
                        "veryfast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", "4800k",
                        "-pix_fmt", "yuv420p", str(path)], check=True, timeout=600)  # fmt: skip
    return path


def run_locust(host: str, users: int, seconds: int, clip: Path, out: Path) -> dict[str, object]:
    prefix = out / "locust"
    env = {**os.environ, "BENCH_CLIP": str(clip)}
    spawn = max(1, users // 5)
    subprocess.run([str(VENV_BIN / "locust"), "-f", str(REPO / "tests/load/locustfile.py"),
                    "--headless", "-u", str(users), "-r", str(spawn), "-t", f"{seconds}s",
                    "--host", host, "--csv", str(prefix), "--only-summary", "--stop-timeout", "30"],
                   env=env, check=False, capture_output=True, timeout=seconds + 300)  # fmt: skip
    row = next(r for r in _csv(f"{prefix}_stats.csv") if r["Name"] == "upload")
    failures = _csv(f"{prefix}_failures.csv")
    limited = other = 0
    for failure in failures:
        if failure["Name"] != "upload":
            continue
        count = int(failure["Occurrences"])
        if "HTTP 429" in failure["Error"] or "HTTP 503" in failure["Error"]:
            limited += count
        else:
            other += count
    requests = int(row["Request Count"])
    ok = requests - int(row["Failure Count"])
    return {
        "users": users, "seconds": seconds, "requests": requests, "ok": ok,
        "errors_pct": round(100 * other / requests, 2) if requests else 0.0,
        "limited_pct": round(100 * limited / requests, 2) if requests else 0.0,
        "throughput": round(ok / seconds, 2),
        "avg_ms": float(row["Average Response Time"]), "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"]),
        "failures": [f["Error"] for f in failures][:5],
    }  # fmt: skip


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Janitor(threading.Thread):
    """Deletes uploaded originals as the web-tier phases run (workers are paused there), so a
    long run does not fill the disk."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.stop = folder, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(2):
            for path in self.folder.rglob("original"):
                path.unlink(missing_ok=True)


def web_tier(mode: Mode, clip: Path, root: Path) -> dict[str, object]:
    storage = root / "web-storage"
    reel = NativeStack(root / "web", port=free_port(), with_worker=False, nginx_env=BENCH_NGINX,
                       app_env={**BENCH_APP, "STORAGE_BACKEND": "local", "STORAGE_DIR": str(storage),
                                "MAX_UPLOAD_BYTES": str(2 * 2**30)})  # fmt: skip
    bare_cmd = [
        str(VENV_BIN / "gunicorn"),
        "-c",
        "python:app.gunicorn_conf",
        "tests.load.bare_app:app",
    ]
    bare = NativeStack(root / "bare", port=free_port(), with_worker=False, nginx_env=BENCH_NGINX,
                       api_command=bare_cmd, app_env={"BARE_SPOOL_DIR": str(root)})  # fmt: skip
    results: dict[str, object] = {"phases": []}
    janitor = Janitor(storage)
    try:
        reel.start()
        bare.start()
        janitor.start()
        for name, users, seconds in mode.phases:
            row = {"phase": name}
            for target, stack in (("reelforge", reel), ("bare", bare)):
                out = root / "locust" / f"{target}-{name.replace(' ', '-')}"
                out.mkdir(parents=True, exist_ok=True)
                row[target] = run_locust(stack.url, users, seconds, clip, out)
                print(f"  {name:13} {target:9} {row[target]['throughput']:7} ok/s "
                      f"p95 {row[target]['p95_ms']:8.0f} ms errors {row[target]['errors_pct']}% "
                      f"429/503 {row[target]['limited_pct']}%", flush=True)  # fmt: skip
            results["phases"].append(row)  # type: ignore[attr-defined]
        results["memory"] = big_upload_memory(reel, mode.big_upload_mb)
    finally:
        janitor.stop.set()
        reel.stop()
        bare.stop()
    return results


def default_limits(mode: Mode, clip: Path, root: Path) -> dict[str, object]:
    """A short run with the shipped limits: what one busy IP sees."""
    stack = NativeStack(root / "defaults", port=free_port(), with_worker=False,
                        app_env={"STORAGE_BACKEND": "local", "STORAGE_DIR": str(root / "defaults-storage")})  # fmt: skip
    try:
        stack.start()
        users, seconds = mode.defaults_run
        out = root / "locust" / "defaults"
        out.mkdir(parents=True, exist_ok=True)
        return run_locust(stack.url, users, seconds, clip, out)
    finally:
        stack.stop()


def big_upload_memory(stack: NativeStack, megabytes: int) -> dict[str, float]:
    """RSS of the API's gunicorn workers before, during and after one streamed upload; growth is
    taken per worker process (the one that serves the upload may not be the largest)."""
    api = psutil.Process(stack.processes["api"].proc.pid)  # type: ignore[union-attr]
    workers = api.children()

    def rss() -> list[float]:
        return [w.memory_info().rss / 2**20 for w in workers]

    token = _token(stack.url)
    before = rss()
    peak = list(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[:] = [max(p, now) for p, now in zip(peak, rss(), strict=True)]
            time.sleep(0.05)

    def body():  # type: ignore[no-untyped-def]
        yield b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nbig\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="video_file"; filename="b.mp4"\r\n\r\n'
        yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12
        chunk = b"\x00" * (1 << 20)
        for _ in range(megabytes):
            yield chunk
        yield b"\r\n--b--\r\n"

    sampler = threading.Thread(target=sample)
    sampler.start()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "multipart/form-data; boundary=b",
    }
    response = httpx.post(stack.api_url + "/api/videos/upload", headers=headers, content=body(),
                          timeout=600)  # fmt: skip
    done.set()
    sampler.join()
    time.sleep(1)
    after = rss()
    peak = [max(p, a) for p, a in zip(peak, after, strict=True)]
    growth = [p - b for p, b in zip(peak, before, strict=True)]
    busiest = growth.index(max(growth))
    return {"megabytes": megabytes, "status": response.status_code,
            "rss_before_mb": round(before[busiest], 1), "rss_peak_mb": round(peak[busiest], 1),
            "rss_after_mb": round(after[busiest], 1), "growth_mb": round(growth[busiest], 1)}  # fmt: skip


def _token(url: str) -> str:
    email = f"bench-{time.monotonic_ns()}@example.com"
    body = {"first_name": "B", "last_name": "U", "email": email, "password1": "bench-pass-1",
            "password2": "bench-pass-1"}  # fmt: skip
    httpx.post(url + "/api/auth/signup", json=body, timeout=30)
    login = httpx.post(
        url + "/api/auth/login", json={"email": email, "password": "bench-pass-1"}, timeout=30
    )
    return str(login.json()["access_token"])


def worker_tier(mode: Mode, clip: Path, root: Path) -> dict[str, object]:
    cores = os.cpu_count() or 1
    stack = NativeStack(root / "workers", port=free_port(), with_worker=False, nginx_env=BENCH_NGINX,
                        app_env={**BENCH_APP, "WORKER_CONCURRENCY": str(cores)})  # fmt: skip
    try:
        stack.start()
        token = _token(stack.url)
        headers = {"Authorization": f"Bearer {token}"}
        payload = clip.read_bytes()
        ids = []
        for i in range(mode.jobs):  # through the real path, while the workers are stopped
            r = httpx.post(stack.url + "/api/videos/upload", headers=headers, data={"title": f"j{i}"},
                           files={"video_file": ("c.mp4", payload, "video/mp4")}, timeout=120)  # fmt: skip
            if r.status_code != 202:
                raise RuntimeError(f"benchmark upload refused: {r.status_code} {r.text[:200]}")
            ids.append(r.json()["video_id"])
        stack.start_worker()
        started = time.monotonic()
        wait_until(lambda: all(_status(stack.url, headers, v) in ("processed", "failed") for v in ids),
                   3600, "the benchmark jobs", interval=0.5)  # fmt: skip
        wall = time.monotonic() - started
        rows = _job_rows(stack, ids)
        output_seconds = sum(r["duration"] for r in rows)
        reel = {"jobs": len(ids), "processed": sum(r["status"] == "processed" for r in rows),
                "wall_s": round(wall, 2), "jobs_per_min": round(len(ids) / wall * 60, 2),
                "realtime_factor": round(output_seconds / wall, 2),
                "avg_queue_wait_s": round(sum(r["wait"] for r in rows) / len(rows), 2),
                "concurrency": cores}  # fmt: skip
    finally:
        stack.stop()
    bare = bare_ffmpeg(clip, mode.jobs, cores, root / "bare-ffmpeg")
    return {"reelforge": reel, "bare": bare,
            "efficiency": round(bare["wall_s"] / reel["wall_s"], 3)}  # fmt: skip


def _status(url: str, headers: dict[str, str], video_id: int) -> str:
    return str(
        httpx.get(f"{url}/api/videos/{video_id}", headers=headers, timeout=10).json()["status"]
    )


def _job_rows(stack: NativeStack, ids: list[int]) -> list[dict[str, float | str]]:
    import psycopg

    url = stack.database_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, coalesce(duration_seconds, 0), extract(epoch FROM started_at - uploaded_at) "
            "FROM video WHERE id = ANY(%s)", (ids,)).fetchall()  # fmt: skip
    return [{"status": s, "duration": float(d), "wait": float(w or 0)} for s, d, w in rows]


def bare_ffmpeg(clip: Path, jobs: int, parallel: int, folder: Path) -> dict[str, float]:
    """The same FFmpeg commands (probe, transcode, thumbnail, probe) on the same file, with the
    same parallelism, and nothing else."""
    from app.settings import Settings
    from worker import ffmpeg
    from worker.pipeline import profile_from
    from worker.probe import accept

    settings = Settings(worker_concurrency=parallel)
    profile = profile_from(settings)
    folder.mkdir(parents=True, exist_ok=True)

    def one(i: int) -> None:
        info = accept(ffmpeg.probe("ffprobe", clip), settings)
        out, thumb = folder / f"{i}.mp4", folder / f"{i}.jpg"
        ffmpeg.run(ffmpeg.transcode_args("ffmpeg", clip, out, profile, info.fps), timeout=3600,
                   on_progress=lambda _: None)  # fmt: skip
        ffmpeg.run(ffmpeg.thumbnail_args("ffmpeg", clip, thumb, profile, 1.0), timeout=60)
        ffmpeg.probe("ffprobe", out)

    started = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(jobs)))
    wall = time.monotonic() - started
    return {"jobs": jobs, "wall_s": round(wall, 2), "jobs_per_min": round(jobs / wall * 60, 2)}


def enqueue_rate(count: int, root: Path) -> dict[str, float]:
    """Real Celery messages through app/queue.py's send_now, into a Redis of its own."""
    from tests.harness import Redis

    redis = Redis().start()
    code = (
        "import time\nfrom app.queue import Job, send_now\nfrom app.broker import PROCESS_VIDEO_TASK\n"
        f"send_now(Job(PROCESS_VIDEO_TASK, 'warm-up', (0,)))\nt = time.perf_counter()\n"
        f"for i in range({count}):\n    send_now(Job(PROCESS_VIDEO_TASK, f'bench-{{i}}', (i,)))\n"
        "print(time.perf_counter() - t)\n"
    )
    try:
        env = {**os.environ, "CELERY_BROKER_URL": redis.url, "CELERY_QUEUE": "bench-enqueue",
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                             capture_output=True, text=True, timeout=600).stdout  # fmt: skip
        seconds = float(out.strip().splitlines()[-1])
    finally:
        redis.stop()
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode = MODES[name]
    root = Path(tempfile.mkdtemp(prefix="reelforge-bench-"))
    cache = REPO / "var" / "bench"
    clip = make_clip(cache / f"clip-{mode.clip_seconds}s-1080p.mp4", mode.clip_seconds)
    print(f"reelforge bench ({name}); clip {clip} {clip.stat().st_size / 1e6:.1f} MB", flush=True)
    results: dict[str, object] = {
        "mode": name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "platform": platform.platform(), "python": platform.python_version()},
        "clip": {"path": clip.name, "megabytes": round(clip.stat().st_size / 1e6, 1),
                 "seconds": mode.clip_seconds, "size": "1920x1080"},
        "bench_limits": {"nginx": BENCH_NGINX, "app": BENCH_APP},
        "modes": {k: asdict(v) for k, v in MODES.items()},
    }  # fmt: skip
    partial = root / "partial-results.json"
    for key, label, stage in (
        ("web", "web tier (workers paused)", lambda: web_tier(mode, clip, root)),
        ("defaults", "shipped limits", lambda: default_limits(mode, clip, root)),
        ("workers", "worker tier", lambda: worker_tier(mode, clip, root)),
        ("enqueue", "enqueue rate", lambda: enqueue_rate(mode.enqueue_count, root)),
    ):
        print(label, flush=True)
        results[key] = stage()
        partial.write_text(json.dumps(results, indent=2))  # a later failure keeps what was measured
    write_report(results, args.out)
    print(f"report: {args.out / 'BENCHMARKS.md'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
