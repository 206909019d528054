"""The SQL of the counting triggers (core/counters.py installs them), written once for Postgres
(PL/pgSQL function bodies) and SQLite (CREATE TRIGGER bodies).

A change to a video row is counted as the removal of its OLD row and the addition of its NEW
row (either may be absent). On Postgres the owners' rows (and the users' rows when a published
video moves) are locked first, so the counts a delta is computed from cannot change under it.
Then each counter table is written by **one statement per trigger, its rows in ascending key
order, tables always in the same order** — owner_queue, user, round_count, tally,
queue_histogram — so two transactions that touch the same counter rows lock them in the same
order and cannot deadlock on them. Deltas that cancel out (a priority change, a claim taken
over by a new lease) add up to zero and write nothing.

Rounds: an owner with R jobs running and Q queued has one queued job in each round R+1 … R+Q.
Removing a queued job drops round R+Q; removing a running one moves the range down (round R
gains one, R+Q loses one, when Q > 0); adding is the inverse, from the counts left after the
removal.
"""

from __future__ import annotations

TALLY_SHARDS = 16
ROUND_SHARDS = 4
ACTIVE = "('queued', 'processing')"


def shard(dialect: str, shards: int) -> str:
    return f"mod(pg_backend_pid(), {shards})" if dialect == "postgresql" else "0"


def minute_of(dialect: str, column: str) -> str:
    """The minute (since the epoch) of a stored timestamp, as SQL."""
    if dialect == "postgresql":
        return f"floor(extract(epoch FROM {column}) / 60)::bigint"
    return f"CAST(strftime('%s', {column}) AS INTEGER) / 60"


def _flag(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _upsert(table: str, key: str, value: str, parts: list[str], shard_sql: str) -> str:
    """Add the summed deltas of `parts` (SELECTs of key columns and a delta `d`) to `table`,
    rows in ascending key order, none whose deltas cancel out."""
    keys = [k.strip() for k in key.split(",")]
    grouped = ", ".join(f"c.{k}" for k in keys)
    return (
        f"INSERT INTO {table} ({key}, shard, {value}) "
        f"SELECT {grouped}, {shard_sql}, sum(c.d) FROM ({' UNION ALL '.join(parts)}) AS c "
        f"GROUP BY {grouped} HAVING sum(c.d) <> 0 ORDER BY {grouped} "
        f"ON CONFLICT ({key}, shard) DO UPDATE SET {value} = {table}.{value} + excluded.{value}"
    )


def video_change(dialect: str, old: bool, new: bool) -> list[str]:
    """The body of the video trigger for INSERT (new), DELETE (old) or UPDATE (both)."""
    same_owner = "OLD.owner_id = NEW.owner_id" if old and new else "1 = 0"
    old_queued, old_running = "OLD.status = 'queued'", "OLD.status = 'processing'"
    new_queued, new_running = "NEW.status = 'queued'", "NEW.status = 'processing'"
    # The NEW row's owner counts after the OLD row was taken out (when it is the same owner).
    r1 = f"q.running - {_flag(f'{same_owner} AND {old_running}')}" if old else "q.running"
    q1 = f"q.queued - {_flag(f'{same_owner} AND {old_queued}')}" if old else "q.queued"
    rounds: list[str] = []
    if old:
        rounds += [
            "SELECT q.running + q.queued AS r, -1 AS d FROM owner_queue AS q "
            "WHERE q.owner_id = OLD.owner_id AND OLD.status = 'queued'",
            "SELECT q.running AS r, 1 AS d FROM owner_queue AS q "
            "WHERE q.owner_id = OLD.owner_id AND OLD.status = 'processing' AND q.queued > 0",
            "SELECT q.running + q.queued AS r, -1 AS d FROM owner_queue AS q "
            "WHERE q.owner_id = OLD.owner_id AND OLD.status = 'processing' AND q.queued > 0",
        ]
    if new:
        rounds += [
            f"SELECT {r1} + {q1} + 1 AS r, 1 AS d FROM owner_queue AS q "
            "WHERE q.owner_id = NEW.owner_id AND NEW.status = 'queued'",
            f"SELECT {r1} + 1 AS r, -1 AS d FROM owner_queue AS q "
            f"WHERE q.owner_id = NEW.owner_id AND NEW.status = 'processing' AND {q1} > 0",
            f"SELECT {r1} + {q1} + 1 AS r, 1 AS d FROM owner_queue AS q "
            f"WHERE q.owner_id = NEW.owner_id AND NEW.status = 'processing' AND {q1} > 0",
        ]
    body = []
    if new:  # the owner's row exists before anything reads it
        body.append(
            "INSERT INTO owner_queue (owner_id, queued, running) SELECT NEW.owner_id, 0, 0 "
            f"WHERE NEW.status IN {ACTIVE} ON CONFLICT (owner_id) DO NOTHING"
        )
    if dialect == "postgresql":  # SQLite has one writer at a time
        # The counts below are read before they change: hold the owners' rows (and, when a
        # published video moves, the users' rows) first, so no concurrent change to the same
        # owner slips in between the read and the write. Ascending ids: no lock cycle.
        owners = ", ".join(f"{r}.owner_id" for r, on in (("OLD", old), ("NEW", new)) if on)
        published = " OR ".join(f"{r}.published" for r, on in (("OLD", old), ("NEW", new)) if on)
        body += [
            f"PERFORM 1 FROM owner_queue WHERE owner_id IN ({owners}) ORDER BY owner_id FOR UPDATE",
            f'PERFORM 1 FROM "user" WHERE id IN ({owners}) AND ({published}) '
            "ORDER BY id FOR UPDATE",
        ]
    body.append(_upsert("round_count", "round", "jobs",
                        [p.replace(" AS r,", " AS round,") for p in rounds],
                        shard(dialect, ROUND_SHARDS)))  # fmt: skip
    if old:
        body.append(
            f"UPDATE owner_queue SET queued = queued - {_flag(old_queued)}, "
            f"running = running - {_flag(old_running)} "
            f"WHERE owner_id = OLD.owner_id AND OLD.status IN {ACTIVE}"
        )
    if new:
        last = (
            "CASE WHEN NEW.status = 'processing' AND (last_started IS NULL "
            "OR last_started < NEW.started_at) THEN NEW.started_at ELSE last_started END"
        )
        body.append(
            f"UPDATE owner_queue SET queued = queued + {_flag(new_queued)}, "
            f"running = running + {_flag(new_running)}, "
            f"last_started = {last} WHERE owner_id = NEW.owner_id AND NEW.status IN {ACTIVE}"
        )
    tallies: list[str] = []
    published_same = "OLD.published" if old and new else "1 = 0"
    if old:
        tallies += [
            f"SELECT OLD.status AS name, -1 AS d WHERE OLD.status IN {ACTIVE}",
            "SELECT 'published' AS name, -1 AS d WHERE OLD.published",
            "SELECT 'ranked' AS name, -1 AS d FROM \"user\" AS u WHERE u.id = OLD.owner_id "
            "AND OLD.published AND u.published_videos = 1",
        ]
    if new:
        left = f"u.published_videos - {_flag(f'{same_owner} AND {published_same}')}"
        tallies += [
            f"SELECT NEW.status AS name, 1 AS d WHERE NEW.status IN {ACTIVE}",
            "SELECT 'published' AS name, 1 AS d WHERE NEW.published",
            "SELECT 'ranked' AS name, 1 AS d FROM \"user\" AS u WHERE u.id = NEW.owner_id "
            f"AND NEW.published AND {left} = 0",
        ]
    body.append(_upsert("tally", "name", "value", tallies, shard(dialect, TALLY_SHARDS)))
    if old:
        body.append(
            'UPDATE "user" SET published_videos = published_videos - 1, votes_received = '
            "votes_received - OLD.votes WHERE id = OLD.owner_id AND OLD.published"
        )
    if new:
        body.append(
            'UPDATE "user" SET published_videos = published_videos + 1, votes_received = '
            "votes_received + NEW.votes WHERE id = NEW.owner_id AND NEW.published"
        )
    minutes: list[str] = []
    for row, delta in (("OLD", -1), ("NEW", 1)):
        if (row == "OLD" and old) or (row == "NEW" and new):
            minutes.append(
                f"SELECT {row}.priority AS lane, {minute_of(dialect, f'{row}.uploaded_at')} "
                f"AS minute, {delta} AS d WHERE {row}.status = 'queued'"
            )
    body.append(_upsert("queue_histogram", "lane, minute", "jobs", minutes,
                        shard(dialect, ROUND_SHARDS)))  # fmt: skip
    if old and new:
        body += [
            head("OLD", when="OLD.owner_id <> NEW.owner_id AND OLD.status = 'queued'"),
            head("NEW", when="(OLD.status = 'queued' OR NEW.status = 'queued')"),
        ]
    else:
        body.append(head("OLD" if old else "NEW"))
    return body


def head(r: str, where: str | None = None, when: str = "1 = 1") -> str:
    """Re-read the owner's best queued job (one probe of ix_video_queue_owner)."""
    return (
        "UPDATE owner_queue SET (head_id, head_lane, head_at) = (SELECT id, priority, "
        f"uploaded_at FROM video WHERE video.owner_id = {r}.owner_id AND status = 'queued' "
        f"ORDER BY priority, uploaded_at, id LIMIT 1) "
        f"WHERE {where or f'owner_id = {r}.owner_id'} AND {when}"
    )
