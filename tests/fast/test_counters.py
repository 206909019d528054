"""The counters the database keeps (core/counters.py) stay equal to a recount from the base
tables through every path that changes them, on the embedded default's SQLite — and the
migration that brings them backfills them from existing data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.models import Base
from tests import workload
from tests.counting import recount, stored

REPO = Path(__file__).resolve().parents[2]


def test_counters_equal_a_recount_after_a_mixed_workload(tmp_path: Path) -> None:
    engine = workload.sqlite_engine(f"{tmp_path}/c.db")
    Base.metadata.create_all(engine)
    workload.run(engine)
    with engine.connect() as conn:
        truth, kept = recount(conn), stored(conn)
    assert truth["tally"]["queued"] > 0 and truth["tally"]["published"] > 0  # it did something
    assert kept == truth


def _alembic(url: str, revision: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, ENVIRONMENT="dev", VAR_DIR=str(Path(url[10:]).parent))
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", revision], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=120)  # fmt: skip


# columns that revisions after 0007 added
LATER_COLUMNS = ("votes", "votes_received", "published_videos", "retry_at", "failures", "claimed_by",
                 "interruptions", "interrupted_since", "worker_losses", "profile",
                 "profile_definition", "outputs", "output_bytes")  # fmt: skip


def test_the_migration_backfills_the_counters_from_existing_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    _alembic(url, "0007")
    engine = workload.sqlite_engine(f"{tmp_path}/m.db")
    # the data of a live installation before the counters: rows written without triggers
    before = workload.sqlite_engine(f"{tmp_path}/scratch.db")
    Base.metadata.create_all(before)
    workload.run(before)
    with before.connect() as src, engine.begin() as dst:
        for table in ("user", "video", "vote"):
            columns = [c.name for c in Base.metadata.tables[table].columns
                       if c.name not in LATER_COLUMNS]  # fmt: skip
            names = ", ".join(f'"{c}"' for c in columns)
            rows = [tuple(r) for r in src.exec_driver_sql(f'SELECT {names} FROM "{table}"')]
            marks = ", ".join("?" for _ in columns)
            dst.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    _alembic(url, "head")
    with engine.connect() as conn:
        truth, kept = recount(conn), stored(conn)
    assert truth["tally"]["queued"] > 0
    assert kept == truth
