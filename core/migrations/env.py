"""Alembic runs through the blocking driver of the configured DATABASE_URL."""

from __future__ import annotations

from alembic import context

from core.db import make_sync_engine
from core.models import Base
from core.settings import get_settings

settings = get_settings()
if settings.database_url.startswith("sqlite"):
    settings.var_dir.mkdir(parents=True, exist_ok=True)

with make_sync_engine(settings).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
