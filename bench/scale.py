"""The scale stage (`python -m bench --stages scale`): does any hot path's cost grow with the
data? Each size (bench/scale_seed.py, L1 → L4) is seeded into a fresh database on a throwaway
Postgres, migrated to the counters (the backfill timed), then timed through the project's own
functions and routes — never hand-written SQL: the fair claim, the fleet's claims per second with
N concurrent claimers, the FIFO claim, GET /api/videos/{id} and /api/videos, rankings, the
public list, the backlog, one reconciler round and one live-event refresh round. At the largest
size, every query those run is EXPLAINed (ANALYZE, BUFFERS) into results.json.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import sessionmaker

from bench.scale_plans import PlanRecorder
from bench.scale_routes import RouteTimer
from bench.scale_seed import LEVELS, Level, seed
from core.jobs.scheduling import SchedulingPolicy, fairest
from core.jobs.store import Claim, JobStore
from devstack.servers import REPO, VENV_BIN, Postgres, create_database

FLEET_SIZES = (1, 8, 32)
# Longer than the seeded queue's span (an hour): a seed is a snapshot, and with the default
# 300 s every job crossing that age while L4 seeds would be promoted at the first claims — a
# backlog of promotions the scheduler would have made one by one as each job aged.
PROMOTE_SECONDS = 7200.0


def timed(fn: Callable[[], Any], samples: int) -> dict[str, float]:
    """Median and p95 in ms of `samples` calls (after one warm-up call)."""
    fn()
    spent = []
    for _ in range(samples):
        began = time.perf_counter()
        fn()
        spent.append((time.perf_counter() - began) * 1000)
    spent.sort()
    return {
        "median_ms": round(statistics.median(spent), 3),
        "p95_ms": round(spent[min(len(spent) - 1, int(len(spent) * 0.95))], 3),
        "samples": samples,
    }


def _migrate(url: str, revision: str) -> float:
    began = time.perf_counter()
    env = dict(os.environ, DATABASE_URL=url, ENVIRONMENT="dev")
    subprocess.run([str(VENV_BIN / "alembic"), "upgrade", revision], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=3600)  # fmt: skip
    return time.perf_counter() - began


def _queued_ids(engine: Engine, count: int, big_user: bool = False) -> list[int]:
    owner = "owner_id = 1" if big_user else "owner_id <> 1"
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT id FROM video WHERE status = 'queued' AND {owner} "
                 "ORDER BY md5(id::text) LIMIT :n"), {"n": count})  # fmt: skip
        return [r for (r,) in rows]


def _requeue(engine: Engine, prefix: str) -> None:
    """Put back what a measurement claimed (the triggers keep every counter exact)."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE video SET status = 'queued', claim_token = NULL, lease_until = NULL "
                 "WHERE claim_token LIKE :p"), {"p": f"{prefix}%"})  # fmt: skip


def _claimer(url: str, hints: list[int], budget: Any, start: Any, seconds: float,
             out: Any) -> None:  # fmt: skip
    """One worker slot's process: its own engine and JobStore, connected before the start
    signal, then claiming until the fleet's budget is spent or the time is up; its latencies
    and unfair picks go to `out`."""
    engine = create_engine(url.replace("+asyncpg", "+psycopg"), pool_size=1)
    store = JobStore(sessionmaker(engine, expire_on_commit=False), 600,
                     SchedulingPolicy(fair=True, lane_promote_seconds=PROMOTE_SECONDS))  # fmt: skip
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    start.wait()
    deadline = time.monotonic() + seconds
    spent = []
    while time.monotonic() < deadline:
        with budget.get_lock():
            if budget.value <= 0:
                break
            budget.value -= 1
            hint = hints[budget.value % len(hints)]
        began = time.perf_counter()
        if isinstance(store.claim(hint, f"fleet-{uuid.uuid4().hex[:28]}"), Claim):
            spent.append((time.perf_counter() - began) * 1000)
    out.put((spent, store.unfair_picks))
    engine.dispose()


def fleet(engine: Engine, url: str, claimers: int, budget: int, seconds: float) -> dict[str, Any]:
    """Fair claims per second with `claimers` worker processes claiming at once (as Celery's
    prefork children do), until `budget` claims or `seconds` have passed."""
    context = multiprocessing.get_context("fork")
    hints = _queued_ids(engine, max(budget, 1))
    engine.dispose()  # no pooled connection crosses the fork
    left, out, start = context.Value("i", budget), context.Queue(), context.Event()
    procs = [context.Process(target=_claimer, args=(url, hints, left, start, seconds, out))
             for _ in range(claimers)]  # fmt: skip
    for proc in procs:
        proc.start()
    time.sleep(1.0 + claimers * 0.05)  # every process connected (each made one query)
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
    elapsed = time.perf_counter() - began
    _requeue(engine, "fleet-")
    done = sorted(ms for spent, _ in results for ms in spent)
    return {
        "claimers": claimers,
        "claims": len(done),
        "seconds": round(elapsed, 2),
        "claims_per_second": round(len(done) / elapsed, 1),
        "median_claim_ms": round(statistics.median(done), 2) if done else None,
        "p95_claim_ms": round(done[int(len(done) * 0.95)], 2) if done else None,
        "unfair_picks": sum(unfair for _, unfair in results),
    }


def position_error(url: str, engine: Engine, sample: int) -> dict[str, Any]:
    """The estimated queue positions (core/jobs/eta.py, past POSITION_EXACT_MAX) against the
    exact ranking of the whole queue (the window query, run once here): the error and its bound."""
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from core.jobs.positions import estimate_positions, positions_query
    from core.models import utcnow

    ids = set(_queued_ids(engine, sample))
    policy = SchedulingPolicy(fair=True, lane_promote_seconds=PROMOTE_SECONDS)

    async def both() -> tuple[dict[int, int], dict[int, Any]]:
        async_engine = create_async_engine(url)
        try:
            async with AsyncSession(async_engine) as session:
                ranked = positions_query(policy, utcnow()).subquery()
                rows = await session.execute(
                    select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(ids))
                )
                exact = {int(i): int(p) for i, p in rows}
                return exact, await estimate_positions(session, ids)
        finally:
            await async_engine.dispose()

    exact, estimated = asyncio.run(both())
    common = [i for i in exact if i in estimated]
    errors = [abs(estimated[i].position - exact[i]) for i in common]
    relative = [abs(estimated[i].position - exact[i]) / exact[i] for i in common]
    over = sum(1 for i in common if not estimated[i].low <= exact[i] <= estimated[i].high)
    return {
        "sample": len(errors),
        "mean_abs_error": round(statistics.mean(errors), 1) if errors else None,
        "max_abs_error": max(errors, default=0),
        "median_relative_error": round(statistics.median(relative), 4) if relative else None,
        "p95_relative_error": round(sorted(relative)[int(len(relative) * 0.95)], 4)
        if relative
        else None,
        "outside_round": over,
        "mean_exact_position": round(statistics.mean(exact.values()), 1) if exact else None,
    }


def _one_claim(store: JobStore, hints: list[int], prefix: str) -> Callable[[], Any]:
    it = iter(hints * 4)
    return lambda: store.claim(next(it), f"{prefix}{uuid.uuid4().hex[:28]}")


def measure_level(server: Postgres, level: Level, samples: int, fleet_seconds: float,
                  plans: bool) -> dict[str, Any]:  # fmt: skip
    url = create_database(server.url())
    began = time.perf_counter()
    _migrate(url, "0007")
    engine = create_engine(url.replace("+asyncpg", "+psycopg"), pool_size=40, max_overflow=10)
    with engine.begin() as conn:
        seed(conn, level, PROMOTE_SECONDS)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    seeded = time.perf_counter() - began
    migration = _migrate(url, "head")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"  {level.name}: seeded in {seeded:.0f} s, migration 0008 in {migration:.1f} s",
          flush=True)  # fmt: skip
    recorder = PlanRecorder(engine) if plans else None
    sessions = sessionmaker(engine, expire_on_commit=False)
    fair = JobStore(
        sessions, 600, SchedulingPolicy(fair=True, lane_promote_seconds=PROMOTE_SECONDS)
    )
    fifo = JobStore(sessions, 600, SchedulingPolicy(fair=False))
    hints = _queued_ids(engine, samples + 1)
    timings: dict[str, Any] = {}

    def record(name: str, fn: Callable[[], Any]) -> None:
        timings[name] = timed(fn, samples)
        if recorder is not None:
            recorder.capture(name, fn)

    record("fair claim", _one_claim(fair, hints, "one-"))
    _requeue(engine, "one-")
    if recorder is not None:  # the pick inside rf_claim_fair is fairest() (a parity test says so)
        with engine.connect() as conn:
            recorder.capture("fair claim: the pick inside rf_claim_fair",
                             lambda: conn.execute(fairest(fair.policy)).first())  # fmt: skip
    record("FIFO claim", _one_claim(fifo, _queued_ids(engine, samples + 1), "one-"))
    _requeue(engine, "one-")
    with RouteTimer(url, engine) as routes:
        for name, call in routes.calls(level).items():
            record(name, call)
    errors = position_error(url, engine, 200)
    budget = min(level.queued // 2, 3000)
    fleets = [fleet(engine, url, n, budget, fleet_seconds) for n in FLEET_SIZES]
    result = {
        "level": level.__dict__,
        "seed_seconds": round(seeded, 1),
        "migration_seconds": round(migration, 1),
        "timings": timings,
        "fleet": fleets,
        "position_error": errors,
    }
    if recorder is not None:
        result["plans"] = recorder.plans
        recorder.close()
    engine.dispose()
    return result


def scale_stage(level_names: list[str], samples: int, fleet_seconds: float) -> dict[str, Any]:
    server = Postgres()
    server.start()
    try:
        _tune(server)
        out: dict[str, Any] = {"levels": {}}
        for name in level_names:
            largest = name == level_names[-1]
            out["levels"][name] = measure_level(server, LEVELS[name], samples, fleet_seconds,
                                                plans=largest)  # fmt: skip
        return out
    finally:
        server.stop()


def _tune(server: Postgres) -> None:
    """A warm cache, as the issue measured it: buffers sized for the largest seed."""
    import psycopg

    dsn = server.url().replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_buffers = '4GB'")
        conn.execute("ALTER SYSTEM SET work_mem = '16MB'")
        conn.execute("ALTER SYSTEM SET maintenance_work_mem = '1GB'")
        conn.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
    server.stop_server()
    server.start_server()


def main() -> None:  # python -m bench.scale L1 L2 (a quick look without the report)
    import json
    import sys

    names = sys.argv[1:] or ["L1", "L2"]
    print(json.dumps(scale_stage(names, 50, 2.0), indent=2, default=str))


if __name__ == "__main__":
    main()
