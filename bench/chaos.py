"""The chaos soak (`python -m bench --stages chaos`; a 2-minute seeded run in `make test`): the
production-shaped native stack as `make stack` runs it (nginx → gunicorn → Postgres, Redis, an S3
server; a Celery worker; everything supervised), users uploading continuously
(bench/chaos_load.py) and one fault every 10–40 s in turn (bench/chaos_faults.py). Then the
invariants (bench/chaos_checks.py): nothing lost or duplicated, statuses forward-only, every
output a playable MP4, no 5xx outside fault windows, no job failed for a transient cause, no
process that needed a human — and the recovery time per fault kind.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.chaos_checks import verdict
from bench.chaos_faults import KINDS, Fault, Injector
from bench.chaos_load import Ledger, User
from devstack.services import Services
from devstack.stack import Stack
from devstack.supervisor import Supervisor


@dataclass(frozen=True)
class SoakPlan:
    seconds: float  # faults and new uploads for this long; then the drain
    users: int = 20
    in_flight: int = 10  # uploads under way at once, at most
    fault_every: tuple[float, float] = (10.0, 40.0)
    seed: int = 7
    drain_seconds: float = 300.0


SETTINGS = {  # the stack `make stack` runs, with limits no soak user trips
    "ENVIRONMENT": "test", "WORKER_CONCURRENCY": "2", "MAX_UPLOAD_BYTES": str(64 * 2**20),
    "RATE_LIMIT_DEFAULT": "100000/minute", "RATE_LIMIT_UPLOAD": "100000/minute",
    "RATE_LIMIT_AUTH": "100000/minute", "RATE_LIMIT_TUS": "100000/minute",
    "LOGIN_FAILURES_PER_ACCOUNT": "100000/minute", "MAX_QUEUED_JOBS_PER_USER": "0",
    "MAX_STORED_BYTES_PER_USER": "0",
}  # fmt: skip


def soak(plan: SoakPlan, clip: Path, root: Path) -> dict[str, Any]:
    stack = Stack(root / "stack", Services.start(root / "stack", s3=True), api_server="gunicorn",
                  edge=True, settings=SETTINGS)  # fmt: skip
    events: list[tuple[float, str]] = []
    try:
        stack.start()

        def say(line: str) -> None:
            events.append((time.time(), line))
            print(f"[supervisor] {line}", flush=True)

        supervisor = Supervisor.of(stack, say=say)
        supervisor.start()
        try:
            return _run(plan, clip, stack, supervisor, events)
        finally:
            supervisor.stop()
    finally:
        stack.stop()


def _run(
    plan: SoakPlan, clip: Path, stack: Stack, supervisor: Supervisor,
    events: list[tuple[float, str]],
) -> dict[str, Any]:  # fmt: skip
    rng = random.Random(plan.seed)
    engine = create_engine(
        stack.services.database_url.replace("+asyncpg", "+psycopg"), pool_pre_ping=True
    )  # it outlives Postgres restarts
    ledger, stop, abandon = Ledger(), threading.Event(), threading.Event()
    in_flight = threading.Semaphore(plan.in_flight)
    users = [User(i, *_account(stack, i), stack.url, stack.base_url, clip, ledger, in_flight,
                  stop, abandon) for i in range(plan.users)]  # fmt: skip
    ledger.tokens.update({u.user_id: u.token for u in users})
    threads = [threading.Thread(target=u.run, name=f"soak-user-{u.index}", daemon=True)
               for u in users]  # fmt: skip
    injector = Injector(stack, supervisor, lambda: _processing(engine))
    faults: list[Fault] = []
    watching = threading.Event()
    watcher = threading.Thread(target=_watch_killed_jobs, args=(engine, faults, watching),
                               name="soak-killed-jobs", daemon=True)  # fmt: skip
    watcher.start()
    started = time.time()
    for thread in threads:
        thread.start()
    turn = 0
    while time.time() - started < plan.seconds:
        time.sleep(
            min(rng.uniform(*plan.fault_every), max(0.0, plan.seconds - (time.time() - started)))
        )
        if time.time() - started >= plan.seconds:
            break
        faults.append(injector.inject(KINDS[turn % len(KINDS)]))
        turn += 1
    stop.set()
    load_ended = time.time()
    deadline = time.monotonic() + plan.drain_seconds
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(1)
    abandon.set()
    for thread in threads:
        thread.join(30)
    watching.set()
    watcher.join(10)
    drained = time.time() - load_ended
    rows = _videos(engine)
    health = {path: _status(stack.url + path) for path in ("/health", "/ready")}
    alive = {name: unit.alive() for name, unit in supervisor.units.items()}
    worker_log = stack.log("worker")
    engine.dispose()
    result = verdict(ledger, faults, rows, stack, health, alive, worker_log, events)
    result.update(plan=asdict(plan), seconds=round(load_ended - started, 1),
                  drain_seconds=round(drained, 1), lease_seconds=_lease(stack))  # fmt: skip
    return result


def soak_clip(path: Path) -> Path:
    """A 6 s 960×540 clip with sound at 3 Mb/s (≈ 2.3 MB: a tus upload is three 1 MiB chunks)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=s=960x540:r=30:d=6", "-f", "lavfi", "-i", "sine=d=6",
                        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "3000k",
                        "-maxrate", "3000k", "-bufsize", "6000k", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-shortest", str(path)], check=True, timeout=120)  # fmt: skip
    return path


def _account(stack: Stack, index: int) -> tuple[int, str]:
    """A user made through the API itself (setup is not what the soak measures)."""
    email = f"soak{index}-{time.time_ns()}@example.com"
    body = {"email": email, "password1": "Soak-passw0rd!", "password2": "Soak-passw0rd!",
            "first_name": "Soak", "last_name": str(index), "city": "Bogota", "country": "CO"}  # fmt: skip
    signup = httpx.post(stack.base_url + "/api/auth/signup", json=body, timeout=30)
    signup.raise_for_status()
    login = httpx.post(stack.base_url + "/api/auth/login", timeout=30,
                       json={"email": email, "password": "Soak-passw0rd!"})  # fmt: skip
    login.raise_for_status()
    return int(signup.json()["id"]), str(login.json()["access_token"])


def _processing(engine: Any) -> dict[int, int]:
    """The jobs running now and their claims so far (a fault that kills a worker process
    reports what it held)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, attempts FROM video WHERE status = 'processing'"))
            return {r[0]: r[1] for r in rows}
    except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down
        print(f"[fault] could not read the running jobs: {exc!s:.200}", flush=True)
        return {}


def _watch_killed_jobs(engine: Any, faults: list[Fault], done: threading.Event) -> None:
    """Twice a second: when was each job a killed worker process held claimed again (or found
    finished: it ended just before the kill)?"""
    while not done.wait(0.5):
        waiting = {(i, job): n for i, f in enumerate(list(faults)) for job, n in f.attempts.items()
                   if job not in f.reclaimed}  # fmt: skip
        if not waiting:
            continue
        ids = sorted({job for _, job in waiting})
        try:
            with engine.connect() as conn:
                rows = {r[0]: (r[1], r[2]) for r in conn.execute(
                    text("SELECT id, attempts, status FROM video WHERE id = ANY(:ids)"),
                    {"ids": ids})}  # fmt: skip
        except Exception:  # noqa: BLE001 - the database may be the thing that is down
            continue
        for (index, job), before in waiting.items():
            attempts, status = rows.get(job, (before, "missing"))
            if attempts > before or status in ("processed", "failed", "missing"):
                fault = faults[index]
                fault.reclaimed[job] = round(time.time() - fault.started, 1)


def _videos(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, owner_id, title, status, error, attempts, failures, interruptions, "
            "worker_losses, started_at, processed_at FROM video ORDER BY id"))  # fmt: skip
        return [dict(r._mapping) for r in rows]


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=10).status_code
    except httpx.HTTPError:
        return 0


def _lease(stack: Stack) -> float:
    from core.settings import Settings

    return float(
        stack.settings.get("LEASE_SECONDS", Settings.model_fields["lease_seconds"].default)
    )
