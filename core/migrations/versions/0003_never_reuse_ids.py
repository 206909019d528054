"""never reuse ids on SQLite (AUTOINCREMENT)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

SQLite hands the largest deleted rowid to the next insert unless the table is AUTOINCREMENT;
a deleted user's id coming back would let an old token act as the new user. Postgres sequences
never reuse ids, so this is a no-op there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("user", "video", "vote", "idempotency_key")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
