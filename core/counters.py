"""Counters the database keeps itself, so that no hot path counts a table.

Row triggers on `video`, `vote`, `user` and `owner_queue` keep, in the same transaction as the
change (so they are exact through every path: the API, the worker, the reconciler, an ON DELETE
CASCADE of a user, a hand-written UPDATE):

- `owner_queue`, one row per owner: `queued` and `running` (status processing) counts, when the
  owner was last served, and the owner's *head* — its best queued job by (lane, upload time,
  id). The fair claim walks one index of this table (core/jobs/scheduling.py).
- `round_count`: how many queued jobs sit in each fair *round* (an owner with R running and Q
  queued has one job in each round R+1 … R+Q), so a queue position is a sum over rounds ahead
  (core/jobs/positions.py), not a count of the queue.
- `tally`: fleet-wide counts (`queued`, `processing`, `published` videos, `ranked` users: users
  with a published video), for /metrics, upload admission and X-Total-Count.
- `video.votes`, `user.votes_received` (votes on their published videos) and
  `user.published_videos`: the rankings and the public list read them instead of joining votes.

Hot counters are sharded (`tally`, `round_count`, `queue_histogram` carry a `shard`: the
backend's pid modulo a small number on Postgres, 0 on SQLite) so concurrent transactions rarely
wait for one row; a reader sums the shards. A shard on its own may go negative; the sum is
exact. The triggers' SQL, and why they cannot deadlock on these rows: core/counter_triggers.py.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.counter_triggers import TALLY_SHARDS, head, minute_of, shard, video_change

TALLY_NAMES = ("queued", "processing", "published", "ranked")


# A video change matters to the counters only through these columns.
_VIDEO_COLUMNS = "status, priority, published, owner_id, uploaded_at, started_at"
_VIDEO_CHANGED = (
    "OLD.status <> NEW.status OR OLD.priority <> NEW.priority OR OLD.published <> NEW.published "
    "OR OLD.owner_id <> NEW.owner_id OR OLD.uploaded_at <> NEW.uploaded_at "
    "OR (NEW.status = 'processing' AND NEW.started_at IS NOT NULL)"
)


def _triggers(dialect: str) -> list[tuple[str, str, str, list[str]]]:
    """(name, timing/event, table, body statements) of every counting trigger."""
    vote_owner = "(SELECT owner_id FROM video WHERE id = {r}.video_id AND published)"
    return [
        ("rf_video_ins", "AFTER INSERT", "video", video_change(dialect, old=False, new=True)),
        ("rf_video_upd", f"AFTER UPDATE OF {_VIDEO_COLUMNS}", "video",
         video_change(dialect, old=True, new=True)),
        ("rf_video_del", "AFTER DELETE", "video", video_change(dialect, old=True, new=False)),
        ("rf_vote_ins", "AFTER INSERT", "vote", [
            "UPDATE video SET votes = votes + 1 WHERE id = NEW.video_id",
            'UPDATE "user" SET votes_received = votes_received + 1 '
            f"WHERE id = {vote_owner.format(r='NEW')}"]),
        ("rf_vote_del", "AFTER DELETE", "vote", [
            "UPDATE video SET votes = votes - 1 WHERE id = OLD.video_id",
            'UPDATE "user" SET votes_received = votes_received - 1 '
            f"WHERE id = {vote_owner.format(r='OLD')}"]),
        ("rf_user_del", "AFTER DELETE", '"user"', [
            f"UPDATE tally SET value = value - 1 WHERE name = 'ranked' "
            f"AND shard = {shard(dialect, TALLY_SHARDS)} AND OLD.published_videos > 0"]),
        ("rf_owner_queue_del", "AFTER DELETE", "owner_queue", [
            "UPDATE round_count SET jobs = jobs - 1 WHERE (round, shard) IN (SELECT round, "
            "min(shard) FROM round_count WHERE round > OLD.running AND "
            "round <= OLD.running + OLD.queued GROUP BY round)"]),
    ]  # fmt: skip


def trigger_ddl(dialect: str) -> list[str]:
    """CREATE statements for every counting trigger, for this dialect."""
    statements = []
    for name, event, table, body in _triggers(dialect):
        when = f" WHEN ({_VIDEO_CHANGED})" if name == "rf_video_upd" else ""
        if dialect == "postgresql":
            joined = ";\n  ".join(body)
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n  {joined};\n  RETURN NULL;\nEND $$"
            )
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{when} "
                f"EXECUTE FUNCTION {name}()"
            )
        else:
            joined = ";\n  ".join(body)
            statements.append(f"DROP TRIGGER IF EXISTS {name}")
            statements.append(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{when}\n"
                f"BEGIN\n  {joined};\nEND"
            )
    return statements


def drop(connection: Connection) -> None:
    """Remove every counting trigger and the claim function (the migration's downgrade)."""
    from core.jobs.claim_sql import DROP

    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(DROP)
    for name, _event, table, _body in _triggers(dialect):
        if dialect == "postgresql":
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def tally_rows(dialect: str) -> list[dict[str, object]]:
    shards = TALLY_SHARDS if dialect == "postgresql" else 1
    return [{"name": n, "shard": s, "value": 0} for n in TALLY_NAMES for s in range(shards)]


def install(connection: Connection) -> None:
    """Create the triggers, the tally rows and, on Postgres, the fair claim's function
    (idempotent). Called after create_all and by the migration that introduced them."""
    from sqlalchemy import text

    from core.jobs.claim_sql import FUNCTION

    dialect = connection.dialect.name
    for statement in trigger_ddl(dialect):
        connection.exec_driver_sql(statement)
    if dialect == "postgresql":  # the fair claim's server side (it reads owner_queue)
        connection.exec_driver_sql(FUNCTION.replace("%", "%%"))
    insert = text(
        "INSERT INTO tally (name, shard, value) VALUES (:name, :shard, :value) "
        "ON CONFLICT (name, shard) DO NOTHING"
    )
    for row in tally_rows(dialect):
        connection.execute(insert, row)


def _round_rows(dialect: str) -> str:
    """(round, jobs) for every non-empty fair round, from owner_queue."""
    if dialect == "postgresql":
        return (
            "SELECT g, count(*) FROM owner_queue, "
            "generate_series(running + 1, running + queued) AS g GROUP BY g"
        )
    return (  # SQLite (the embedded default: small tables)
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
        "WHERE n < (SELECT coalesce(max(running + queued), 0) FROM owner_queue)) "
        "SELECT n, (SELECT count(*) FROM owner_queue WHERE running < n "
        "AND running + queued >= n) AS jobs FROM r WHERE jobs > 0"
    )


def backfill(connection: Connection) -> None:
    """Set every counter from the base tables (the migration that introduced them; a repair).
    Run with writes to video, vote and user held off (the migration takes SHARE locks)."""
    from sqlalchemy import text

    dialect = connection.dialect.name
    statements = [
        "DELETE FROM owner_queue",
        "DELETE FROM round_count",
        "DELETE FROM queue_histogram",
        "INSERT INTO queue_histogram (lane, minute, shard, jobs) SELECT priority, "
        f"{minute_of(dialect, 'uploaded_at')} AS minute, 0, count(*) FROM video "
        "WHERE status = 'queued' GROUP BY priority, minute",
        "INSERT INTO owner_queue (owner_id, queued, running, last_started) SELECT owner_id, "
        "sum(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN status = 'processing' THEN 1 ELSE 0 END), max(started_at) "
        "FROM video GROUP BY owner_id",
        head("owner_queue", where="queued > 0"),
        f"INSERT INTO round_count (round, shard, jobs) SELECT r.n, 0, r.jobs FROM "
        f"({_round_rows(dialect)}) AS r (n, jobs)"
        if dialect == "postgresql"
        else f"INSERT INTO round_count (round, shard, jobs) SELECT n, 0, jobs FROM "
        f"({_round_rows(dialect)})",
        "UPDATE video SET votes = c.n FROM (SELECT video_id, count(*) AS n FROM vote "
        "GROUP BY video_id) AS c WHERE video.id = c.video_id",
        'UPDATE "user" SET published_videos = p.n, votes_received = p.v FROM (SELECT owner_id, '
        "count(*) AS n, sum(votes) AS v FROM video WHERE published GROUP BY owner_id) AS p "
        'WHERE "user".id = p.owner_id',
        "DELETE FROM tally",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)
    install(connection)  # the triggers, and every tally row at 0
    counts = {
        "queued": "SELECT count(*) FROM video WHERE status = 'queued'",
        "processing": "SELECT count(*) FROM video WHERE status = 'processing'",
        "published": "SELECT count(*) FROM video WHERE published",
        "ranked": 'SELECT count(*) FROM "user" WHERE published_videos > 0',
    }
    for name, query in counts.items():
        connection.execute(
            text(f"UPDATE tally SET value = ({query}) WHERE name = :name AND shard = 0"),
            {"name": name},
        )


async def read_tallies(bind: AsyncSession | AsyncConnection, *names: str) -> dict[str, int]:
    """The named fleet-wide counts: one read of at most TALLY_SHARDS rows per name."""
    from sqlalchemy import func, select

    from core.models import Tally

    rows = await bind.execute(
        select(Tally.name, func.sum(Tally.value)).where(Tally.name.in_(names)).group_by(Tally.name)
    )
    found = {name: int(total or 0) for name, total in rows}
    return {name: found.get(name, 0) for name in names}
