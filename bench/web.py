"""The web tier under Locust: reelforge (nginx → gunicorn → API, workers paused) against the bare
endpoint behind the same nginx and gunicorn config, phase by phase; and a short run with the
shipped limits (what one busy IP sees)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.locust_run import median_run, pair_ratio, run_locust, spread
from bench.memory import big_upload_memory
from bench.tus import big_tus_memory, resume_overhead, tus_phases
from devstack.services import Services
from devstack.stack import Stack

# Rate limits for the web-tier phases: all load comes from one IP, so per-IP limits would
# measure the limiter, not the service. They are written into the report.
BENCH_NGINX = {
    "RF_RATE_API": "10000r/s",
    "RF_BURST_API": "10000",
    "RF_RATE_AUTH": "10000r/s",
    "RF_BURST_AUTH": "10000",
    "RF_RATE_UPLOAD": "10000r/s",
    "RF_BURST_UPLOAD": "10000",
    "RF_RATE_TUS": "10000r/s",
    "RF_BURST_TUS": "10000",
    "RF_CONN_PER_IP": "2000",
}
BENCH_APP = {
    "ENVIRONMENT": "test",
    "RATE_LIMIT_DEFAULT": "1000000/minute",
    "RATE_LIMIT_UPLOAD": "1000000/minute",
    "RATE_LIMIT_AUTH": "1000000/minute",
    "RATE_LIMIT_TUS": "1000000/minute",
    "UPLOADS_OPEN_MAX_PER_USER": "0",
    "BACKLOG_MAX_QUEUED": "0",
    "BACKLOG_MAX_OLDEST_SECONDS": "0",
    "MIN_FREE_DISK_BYTES": "0",
    "LOGIN_FAILURES_PER_ACCOUNT": "1000000/minute",
    "MAX_QUEUED_JOBS_PER_USER": "0",
    "MAX_STORED_BYTES_PER_USER": "0",
    "UPLOADS_MAX_PER_PROCESS": "0",
    "UPLOADS_MAX_PER_USER": "0",
    # Each simulated user signs up and logs in once; at the default cost (12) 300 users'
    # bcrypt would eat the 2 vCPUs the uploads are measured on.
    "BCRYPT_ROUNDS": "10",
}


class Janitor(threading.Thread):
    """Deletes uploaded originals as the web-tier phases run (workers are paused there), so a
    long run does not fill the disk — and their folders with them: a walk over every folder
    ever made (rglob) grew to ~0.8 s of CPU per pass at 30,000 uploads, every 2 s, on the
    machine being measured."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.stop = folder / "originals", threading.Event()

    def run(self) -> None:
        while not self.stop.wait(2):
            self.sweep()

    def sweep(self) -> None:
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return
        for entry in entries:
            original = os.path.join(entry.path, "original")
            try:
                os.unlink(original)  # committed: its upload is over, the folder is its alone
                os.rmdir(entry.path)
            except OSError:  # still being written, or already gone
                continue


def _edge_stack(root: Path, services: Services, settings: dict[str, str], **kw: Any) -> Stack:
    return Stack(
        root,
        services,
        api_server="gunicorn",
        edge=True,
        settings=settings,
        nginx_settings=BENCH_NGINX,
        **kw,
    )


def web_tier(
    phases: list[tuple[str, int, int]],
    big_upload_mb: int,
    clip: Path,
    root: Path,
    rounds: int = 3,
    tus_users: list[int] | None = None,
    tus_seconds: int = 20,
    floor_users: list[int] | None = None,
) -> dict[str, Any]:
    """Each phase runs `rounds` times per target, rotating the targets' order (reelforge, bare,
    then bare, reelforge, …) so drift on a shared machine hits all alike. Each round's ratio
    pairs the runs of that round; the report gives the median ratio and its min–max spread.
    Phases with `floor_users` users also run the floor endpoint (bench/floor_app.py)."""
    reel_root, bare_root = root / "web", root / "bare"
    reel = _edge_stack(
        reel_root, Services.start(reel_root), {**BENCH_APP, "MAX_UPLOAD_BYTES": str(2 * 2**30)}
    )
    bare = _edge_stack(
        bare_root,
        Services.embedded(bare_root),
        {"APP_MODULE": "bench.bare_app:app", "BARE_SPOOL_DIR": str(root)},
    )
    floor = _edge_stack(  # reelforge's Postgres, Redis and JWT secret: the same tokens work
        root / "floor",
        reel.services,
        {**BENCH_APP, "APP_MODULE": "bench.floor_app:app"},
        jwt_secret=reel.jwt_secret,
    )
    stacks = {"reelforge": reel, "bare": bare, "floor": floor}
    results: dict[str, Any] = {"phases": []}
    janitors = [Janitor(reel.storage_dir), Janitor(floor.storage_dir)]
    try:
        reel.start(worker=False)
        bare.start(worker=False)
        if floor_users:
            floor.start(worker=False)
        for janitor in janitors:
            janitor.start()
        most = max([users for _, users, _ in phases] + (tus_users or []))
        tokens = {"BENCH_TOKENS": str(token_pool(reel.url, most, root / "tokens.json"))}
        results["auth"] = f"{most} users signed up and logged in before the phases (tokens reused)"
        for name, users, seconds in phases:
            row: dict[str, Any] = {"phase": name, "rounds": []}
            names = ["reelforge", "bare"] + (["floor"] if users in (floor_users or []) else [])
            for round_no in range(rounds):
                pair: dict[str, Any] = {}
                shift = round_no % len(names)
                for target in names[shift:] + names[:shift]:
                    stack = stacks[target]
                    out = root / "locust" / f"{target}-{name.replace(' ', '-')}-{round_no}"
                    out.mkdir(parents=True, exist_ok=True)
                    pair[target] = run_locust(
                        stack.url, users, seconds, clip, out, extra_env=tokens
                    )
                    print(
                        f"  {name:13} r{round_no} {target:9} {pair[target]['throughput']:7} ok/s "
                        f"p95 {pair[target]['p95_ms']:8.0f} ms errors {pair[target]['errors_pct']}% "
                        f"429/503 {pair[target]['limited_pct']}%",
                        flush=True,
                    )
                row["rounds"].append(pair)
            for target in names:
                row[target] = median_run([pair[target] for pair in row["rounds"]])
            row["throughput_ratio"] = spread([_ratio(p, "throughput") for p in row["rounds"]])
            row["p95_ratio"] = spread([_ratio(p, "p95_ms") for p in row["rounds"]])
            if "floor" in names:
                row["floor_ratio"] = spread(
                    [pair_ratio(p, "floor", "bare", "throughput") for p in row["rounds"]]
                )
                row["reelforge_vs_floor"] = spread(
                    [pair_ratio(p, "reelforge", "floor", "throughput") for p in row["rounds"]]
                )
            results["phases"].append(row)
        results["tus"] = tus_phases(
            reel, bare, tus_users or [], tus_seconds, rounds, clip, root, tokens
        )
        bearer = token(reel.url)
        results["memory"] = big_upload_memory(reel, big_upload_mb, bearer)
        results["tus_memory"] = big_tus_memory(reel, big_upload_mb, bearer)
        results["tus_resume"] = resume_overhead(reel, bearer, clip.read_bytes())
    finally:
        for janitor in janitors:
            janitor.stop.set()
        floor.stop_processes()
        reel.stop()
        bare.stop()
    return results


def _ratio(pair: dict[str, Any], key: str) -> float:
    return pair_ratio(pair, "reelforge", "bare", key)


def default_limits(users: int, seconds: int, clip: Path, root: Path) -> dict[str, Any]:
    """A short run with the shipped limits: what one busy IP sees."""
    folder = root / "defaults"
    stack = Stack(
        folder,
        Services.start(folder),
        api_server="gunicorn",
        edge=True,
        settings={"ENVIRONMENT": "test"},
    )
    try:
        stack.start(worker=False)
        out = root / "locust" / "defaults"
        out.mkdir(parents=True, exist_ok=True)
        return run_locust(stack.url, users, seconds, clip, out)
    finally:
        stack.stop()


def token_pool(url: str, count: int, path: Path) -> Path:
    """`count` users signed up and logged in ahead of the run (4 at a time), their tokens in
    `path`: the Locust users take these instead of paying bcrypt inside the measured window."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda _: token(url), range(count)))
    path.write_text(json.dumps(tokens))
    return path


def token(url: str) -> str:
    email = f"bench-{time.monotonic_ns()}@example.com"
    body = {
        "first_name": "B",
        "last_name": "U",
        "email": email,
        "password1": "bench-pass-1",
        "password2": "bench-pass-1",
    }
    httpx.post(url + "/api/auth/signup", json=body, timeout=30)
    login = httpx.post(
        url + "/api/auth/login", json={"email": email, "password": "bench-pass-1"}, timeout=30
    )
    return str(login.json()["access_token"])
