"""resumable (tus) and direct-to-S3 uploads

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),  # fmt: skip
        sa.Column("mode", sa.String(8), nullable=False, server_default="tus"),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("content_type", sa.String(64)),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.Column("backend_upload_id", sa.String(1024)),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("tail_key", sa.String(512)),
        sa.Column("tail_bytes", sa.BigInteger(), nullable=False),
        sa.Column("lock_token", sa.String(32)),
        sa.Column("lock_until", sa.DateTime(timezone=True)),
        sa.Column("video_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_upload_owner_id", "upload", ["owner_id"])
    op.create_index("ix_upload_expires_at", "upload", ["expires_at"])


def downgrade() -> None:
    op.drop_table("upload")
