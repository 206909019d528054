"""output profiles (core/profiles.py): the profile a job makes — its name and the definition it was
accepted with — on `video`, and on `upload` from its creation until the job exists; and what a
processed job made (`video.outputs`: the manifest of its MP4 or HLS tree, previews, thumbnail;
`output_bytes`, counted in the owner's storage quota).

Safe on a live Postgres: a column with a constant default and a nullable one (no rewrite). Jobs
from before have no definition: they make the seed's reel, as they always did.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("video", "upload")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("profile", sa.String(40), nullable=False, server_default="reel")
            )
            batch.add_column(sa.Column("profile_definition", sa.Text()))
    with op.batch_alter_table("video") as batch:
        batch.add_column(sa.Column("outputs", sa.Text()))
        batch.add_column(
            sa.Column("output_bytes", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("video") as batch:
        batch.drop_column("output_bytes")
        batch.drop_column("outputs")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("profile_definition")
            batch.drop_column("profile")
