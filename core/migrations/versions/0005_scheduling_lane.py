"""scheduling lane per job

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("video") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
    op.create_index("ix_video_status_priority", "video", ["status", "priority", "uploaded_at"])


def downgrade() -> None:
    op.drop_index("ix_video_status_priority", table_name="video")
    with op.batch_alter_table("video") as batch:
        batch.drop_column("priority")
