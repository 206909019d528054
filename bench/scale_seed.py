"""Seeds one size of the scale benchmark into a fresh database with generate_series (minutes at
the largest size, not hours), on the schema *before* the counters (revision 0007), so that the
migration that brings them (0008) is timed with its backfill on exactly that data.

Shape (issue: cost that does not grow with the data): `users` users in 50 cities; jobs skewed —
every tenth job belongs to the top 1 % of users — and one user with 10k videos; ~2 % of queued
as processing under a live lease; finished jobs 90 % processed (their originals already purged)
and 10 % failed; a tenth of the processed ones published; `votes` votes spread over the
published videos, one per (video, user). Queued jobs were sent a moment ago (nothing for the
reconciler to re-send) and those older than the promotion age are in lane 0, as the scheduler
would have left them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Level:
    name: str
    queued: int
    finished: int
    votes: int
    users: int

    @property
    def processing(self) -> int:
        return max(1, self.queued // 50)

    @property
    def big_user_videos(self) -> int:
        return min(10_000, (self.queued + self.finished) // 4)


LEVELS = {
    "L1": Level("L1", 1_000, 13_000, 10_000, 1_000),
    "L2": Level("L2", 10_000, 40_000, 101_000, 10_000),
    "L3": Level("L3", 100_000, 310_000, 1_000_000, 100_000),
    "L4": Level("L4", 1_000_000, 3_000_000, 10_000_000, 100_000),
}

# A multiplicative hash: a repeatable, well-spread "random" number from a row number.
_HASH = "((({i})::bigint * 2654435761) % 4294967296)"


def _owner(i: str, level: Level) -> str:
    top = max(1, level.users // 100)
    step = max(1, (level.queued + level.finished + level.processing) // level.big_user_videos)
    return (  # user 1: every step-th job, so some of each status
        f"CASE WHEN {i} % {step} = 0 THEN 1 "
        f"WHEN {i} % 10 = 0 THEN 2 + {_HASH.format(i=i)} % {top} "
        f"ELSE 1 + {_HASH.format(i=i)} % {level.users} END"
    )


def seed(conn: Connection, level: Level, promote_seconds: float) -> None:
    """Fill the empty 0007 schema. Foreign keys are checked once at the end (replica role skips
    them per row), so 10M votes take a minute or two."""
    finished, processing, queued = level.finished, level.processing, level.queued
    total = finished + processing + queued

    def run(sql: str) -> None:  # psycopg reads % as a placeholder mark even without parameters
        conn.exec_driver_sql(sql.replace("%", "%%"))

    run("SET session_replication_role = replica")
    run(
        'INSERT INTO "user" (id, email, first_name, last_name, city, country, password_hash, '
        "created_at) SELECT i, 'u' || i || '@scale.test', 'First' || i, 'Last' || i, "
        f"'City ' || (i % 50), 'CO', 'x', now() FROM generate_series(1, {level.users}) AS i"
    )
    run("SELECT setval(pg_get_serial_sequence('\"user\"', 'id'), (SELECT max(id) FROM \"user\"))")
    # Row i: 1..finished finished (oldest), then processing, then queued (newest, last hour).
    status = (
        f"CASE WHEN i <= {finished} THEN CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'processed' END "
        f"WHEN i <= {finished + processing} THEN 'processing' ELSE 'queued' END"
    )
    uploaded = (
        f"CASE WHEN i <= {finished + processing} "
        f"THEN now() - interval '3 days' + (i::float / {total}) * interval '70 hours' "
        f"ELSE now() - (({total} - i)::float / {queued}) * interval '1 hour' END"
    )
    run(
        "INSERT INTO video (id, owner_id, title, status, progress, task_id, attempts, "
        "original_key, original_content_type, original_bytes, priority, uploaded_at, "
        "enqueued_at, published) "
        f"SELECT i, {_owner('i', level)}, 'video ' || i, {status}, 0, md5(i::text), 0, "
        "'originals/' || i, 'video/mp4', 1000000, "
        f"CASE WHEN i % 5 = 0 THEN 0 ELSE 1 END, {uploaded}, now(), false "
        f"FROM generate_series(1, {total}) AS i"
    )
    run("SELECT setval(pg_get_serial_sequence('video', 'id'), (SELECT max(id) FROM video))")
    run(
        "UPDATE video SET started_at = uploaded_at + interval '30 seconds', "
        "processed_at = uploaded_at + interval '60 seconds', "
        "original_purged_at = uploaded_at + interval '61 seconds', "
        "processed_key = CASE WHEN status = 'processed' THEN 'processed/' || id END, "
        "thumbnail_key = CASE WHEN status = 'processed' THEN 'thumbnails/' || id END, "
        "duration_seconds = 30, progress = 100, attempts = 1, "
        "error = CASE WHEN status = 'failed' THEN 'seeded failure' END, "
        "published = (status = 'processed' AND id % 10 = 1), "
        "published_at = CASE WHEN status = 'processed' AND id % 10 = 1 "
        "THEN uploaded_at + interval '2 minutes' END "
        "WHERE status IN ('processed', 'failed')"
    )
    run(
        "UPDATE video SET started_at = now() - (id % 30) * interval '1 second', attempts = 1, "
        "progress = id % 100, claim_token = md5('c' || id), lease_until = now() + interval '1 day' "
        "WHERE status = 'processing'"
    )
    run(
        "UPDATE video SET priority = 0 WHERE status = 'queued' "
        f"AND uploaded_at < now() - interval '{int(promote_seconds)} seconds'"
    )
    run(
        "CREATE TEMP TABLE pub AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn "
        "FROM video WHERE published"
    )
    published = conn.scalar(text("SELECT count(*) FROM pub")) or 1
    run(
        "INSERT INTO vote (video_id, user_id, created_at) SELECT pub.id, "
        f"((k / {published}) * 7919 + pub.rn) % {level.users} + 1, now() "
        f"FROM generate_series(0, {level.votes - 1}) AS k JOIN pub ON pub.rn = k % {published}"
    )
    run("SET session_replication_role = DEFAULT")
