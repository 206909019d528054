"""retry budgets per job: `retrying` jobs claimable from `retry_at`, input failures apart from
service interruptions and worker losses (core/jobs/retries.py); `claimed_by` (the worker process
holding a claim); the claim function records it and returns the budgets

Safe on a live Postgres: nullable columns and columns with a constant default (no rewrite), the
index built CONCURRENTLY, the claim function replaced in one transaction.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import Base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("failures", "interruptions", "worker_losses")
INDEX = "ix_video_retry_due"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("video") as batch:
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("interrupted_since", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("claimed_by", sa.String(255)))
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    index = next(i for i in Base.metadata.tables["video"].indexes if i.name == INDEX)
    if bind.dialect.name == "postgresql":
        from core.jobs.claim_sql import DROP, FUNCTION

        bind.exec_driver_sql(DROP)  # its arguments and results changed
        bind.exec_driver_sql(FUNCTION.replace("%", "%%"))
        with op.get_context().autocommit_block():
            op.execute(
                sa.schema.CreateIndex(index)
                .compile(dialect=bind.dialect)
                .string.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1)
            )
    else:
        index.create(bind)


def downgrade() -> None:
    """Drops the columns; the claim function of this revision needs them, so it goes too (the
    fair claim then fails until 0009 is applied again: a downgrade is for an empty queue)."""
    if op.get_bind().dialect.name == "postgresql":
        from core.jobs.claim_sql import DROP

        op.get_bind().exec_driver_sql(DROP)
    op.drop_index(INDEX, table_name="video")
    op.execute("UPDATE video SET status = 'queued' WHERE status = 'retrying'")
    with op.batch_alter_table("video") as batch:
        for name in ("retry_at", "interrupted_since", "claimed_by", *COUNTERS):
            batch.drop_column(name)
