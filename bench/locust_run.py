"""One Locust run against one target, read back from its CSV files; and how the rounds of a
phase are summed up (medians, and ratios as median with their min–max spread)."""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from bench.machine import WindowSampler
from devstack.servers import REPO, VENV_BIN

LOCUST_BOOT_SECONDS = 1.0  # from the process's start to its first user spawned, at most


def run_locust(
    host: str,
    users: int,
    seconds: int,
    clip: Path,
    out: Path,
    user_class: str = "UploadUser",
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`seconds` is the measured window. Before it: spawning (5 s) and a warm-up long enough for
    every user's first upload to have ended (warmup_seconds), which is discarded — at 300 users
    the first uploads all start together and end together, a wave that is not steady state. At
    the window's end the users are stopped at once: only uploads that ended inside it count."""
    prefix = out / "locust"
    warmup = warmup_seconds(users)
    env = {**os.environ, "BENCH_CLIP": str(clip), "BENCH_WARMUP_SECONDS": str(warmup),
           **(extra_env or {})}  # fmt: skip
    spawn = max(1, users // 5)
    run_for = -(-users // spawn) + warmup + seconds
    # The machine's CPU by process group over the measured window, trimmed at both ends so
    # the warm-up and Locust's exit stay out of it: it ends by run_for - 0.5 s, while Locust
    # (whose clock starts after its boot) is still running.
    sampler = WindowSampler(LOCUST_BOOT_SECONDS + run_for - seconds + 0.5, max(1, seconds - 2))
    sampler.start()
    subprocess.run(
        [
            str(VENV_BIN / "locust"),
            "-f",
            str(REPO / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(spawn),
            "-t",
            f"{run_for}s",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "0",
            user_class,
        ],  # stats restart after the warm-up (bench/locustfile.py): no ramp-up, no first wave
        env=env,
        check=False,
        capture_output=True,
        timeout=run_for + 300,
    )
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
    # Locust's rates cover the window after the reset (spawning done), not the whole run.
    ok_per_second = float(row["Requests/s"]) - float(row["Failures/s"])
    machine = sampler.finish(ok_per_second)
    return {
        "users": users,
        "seconds": seconds,
        "requests": requests,
        "ok": ok,
        "errors_pct": round(100 * other / requests, 2) if requests else 0.0,
        "limited_pct": round(100 * limited / requests, 2) if requests else 0.0,
        "throughput": round(ok_per_second, 2),
        "avg_ms": float(row["Average Response Time"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "max_ms": float(row["Max Response Time"]),
        "failures": [f["Error"] for f in failures][:5],
        "machine_ms": machine,
    }


def warmup_seconds(users: int) -> int:
    """Discarded after spawning: about two upload cycles at this many users on this box. One
    was not enough at 300 users: the first wave (every user's first upload, started together on
    a cold server) took up to ~21 s and its last uploads ended inside the measured window,
    where they were Locust's p95 (17-20 s against 9 s for uploads started after it)."""
    return max(3, users // 10)


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One target's rounds in one figure each: medians of rates and latencies, sums of counts,
    the worst error share (an error in any round is reported)."""
    out: dict[str, Any] = {
        "users": runs[0]["users"],
        "seconds": sum(r["seconds"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "ok": sum(r["ok"] for r in runs),
        "errors_pct": max(r["errors_pct"] for r in runs),
        "limited_pct": max(r["limited_pct"] for r in runs),
        "failures": [f for r in runs for f in r["failures"]][:5],
    }
    for key in ("throughput", "avg_ms", "p50_ms", "p95_ms", "p99_ms"):
        out[key] = round(statistics.median(r[key] for r in runs), 2)
    out["max_ms"] = max(r["max_ms"] for r in runs)
    machines = [r["machine_ms"] for r in runs if r.get("machine_ms")]
    if machines:
        out["machine_ms"] = {
            key: round(statistics.median(m[key] for m in machines), 2) for key in machines[0]
        }
    return out


def pair_ratio(pair: dict[str, Any], a: str, b: str, key: str) -> float:
    return pair[a][key] / pair[b][key] if pair[b][key] else 0.0
