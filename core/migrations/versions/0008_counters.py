"""counters kept by triggers (owner_queue, round_count, tally, vote counts) and the indexes that
make every hot path an index walk (core/counters.py, issue: cost that does not grow with data)

Safe on a live Postgres, step by step:
1. new columns with a constant default (no table rewrite) and three new tables: a brief ACCESS
   EXCLUSIVE lock on video and user, milliseconds;
2. every new index with CREATE INDEX CONCURRENTLY (no lock that blocks reads or writes);
3. the triggers and the backfill in one transaction holding SHARE locks on video, vote and user:
   reads go on, writes (uploads, claims, votes) wait until it commits. The backfill's time at
   the scale benchmark's largest size is in docs/BENCHMARKS.md (scale stage).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.counters import backfill
from core.models import Base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("owner_queue", "round_count", "queue_histogram", "tally")
NEW_INDEXES = {
    "video": ("ix_video_queue_owner", "ix_video_queued_at", "ix_video_owner_uploaded",
              "ix_video_queue_promote", "ix_video_queued_enqueued_at", "ix_video_processing_lease",
              "ix_video_retention", "ix_video_public"),
    "user": ("ix_user_ranking", "ix_user_city_ranking"),
}  # fmt: skip


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    with op.batch_alter_table("video") as batch:
        batch.add_column(_counter("votes"))
    with op.batch_alter_table("user") as batch:
        batch.add_column(_counter("votes_received"))
        batch.add_column(_counter("published_videos"))
    for name in NEW_TABLES:  # with their own indexes; the triggers come with the backfill
        Base.metadata.tables[name].create(bind)
    indexes = _indexes_for(dialect)
    if dialect == "postgresql":
        with op.get_context().autocommit_block():
            for index in indexes:
                op.execute(
                    sa.schema.CreateIndex(index)
                    .compile(dialect=bind.dialect)
                    .string.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1)
                )
        op.execute('LOCK TABLE video, vote, "user" IN SHARE MODE')
    else:
        for index in indexes:
            index.create(bind)
    backfill(bind)


def _indexes_for(_dialect: str) -> list[sa.Index]:
    return [
        index
        for table, names in NEW_INDEXES.items()
        for index in Base.metadata.tables[table].indexes
        if index.name in names
    ]


def downgrade() -> None:
    bind = op.get_bind()
    from core.counters import drop

    drop(bind)
    for table, names in NEW_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table)
    for name in reversed(NEW_TABLES):
        op.drop_table(name)
    with op.batch_alter_table("user") as batch:
        batch.drop_column("published_videos")
        batch.drop_column("votes_received")
    with op.batch_alter_table("video") as batch:
        batch.drop_column("votes")
