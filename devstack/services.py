"""`Services`: where a stack's state lives — a database, a broker, and S3 or a local folder —
either embedded (SQLite + Celery's filesystem broker) or real servers started here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from devstack.servers import Postgres, Redis, S3Server, create_database

ServerT = TypeVar("ServerT", Postgres, Redis, S3Server)
S3_KEYS = {"S3_ACCESS_KEY_ID": "reelforge", "S3_SECRET_ACCESS_KEY": "reelforge-secret"}


@dataclass
class Services:
    """Where a stack's state lives. Servers started here are owned and stopped with it."""

    database_url: str
    broker_url: str
    s3_url: str | None = None  # None: local storage under the stack's root
    owned: list[Postgres | Redis | S3Server] = field(default_factory=list)

    @classmethod
    def embedded(cls, root: Path) -> Services:
        """`make run`'s default: SQLite and Celery's filesystem broker — no server at all."""
        root.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite+aiosqlite:///{root}/reelforge.db", "filesystem://")

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        postgres: str | Postgres | None = None,
        redis: str | None = None,
        s3: bool = False,
    ) -> Services:
        """Production mode. `postgres`: a server URL to make a fresh database on, a running
        server, or None to start one; `redis`: a URL, or None to start one."""
        owned: list[Postgres | Redis | S3Server] = []
        if postgres is None:
            postgres = Postgres().start()
            owned.append(postgres)
        server_url = postgres.url() if isinstance(postgres, Postgres) else postgres
        if redis is None:
            server = Redis().start()
            owned.append(server)
            redis = server.url
        s3_url = None
        if s3:
            s3_server = S3Server(root).start(bucket="reelforge")
            owned.append(s3_server)
            s3_url = s3_server.url
        return cls(create_database(server_url), redis, s3_url, owned)

    def server(self, kind: type[ServerT]) -> ServerT | None:
        return next((s for s in self.owned if isinstance(s, kind)), None)

    def stop(self) -> None:
        for server in reversed(self.owned):
            server.stop()
