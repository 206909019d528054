"""The scale stage's calls through the real app (in-process, httpx.ASGITransport, asyncpg as in
production) and the core functions the API and the reconciler run: each is a zero-argument
callable for bench.scale.timed."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from app.auth.security import create_access_token
from app.collaborators import Collaborators
from app.main import create_app
from bench.scale_seed import Level
from core.db import Database
from core.jobs.backlog import read_backlog
from core.jobs.dispatch import JobPublisher
from core.jobs.resend import resend_stale_jobs
from core.jobs.retention import purge_expired_originals
from core.jobs.store import JobStore
from core.jobs.upload_expiry import sweep_expired_uploads
from core.settings import Settings
from core.storage.local import LocalStorage
from core.webhooks.sender import due as due_deliveries

WATCHED = 20  # videos a live-event refresh round reads


class RouteTimer:
    """An app on its own event loop (a thread), so the timing loop can stay synchronous."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.sync_engine = engine
        self.folder = Path(tempfile.mkdtemp(prefix="reelforge-scale-"))
        self.settings = Settings(
            environment="test", database_url=url, celery_broker_url="filesystem://",
            broker_dir=self.folder / "broker", storage_dir=self.folder / "storage",
            jwt_secret=secrets.token_urlsafe(32), rate_limit_enabled=False,
            rate_limit_storage_uri="memory://", original_retention_seconds=7 * 86400,
            resend_after_seconds=86400,  # the seeded jobs were just sent: nothing is stale
            min_free_disk_bytes=0,
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RouteTimer:
        self.thread.start()
        self.database = Database.from_settings(self.settings)
        storage = LocalStorage(self.settings.resolved_storage_dir)
        self.publisher = JobPublisher(self.settings, name="reelforge-scale")
        self.collaborators = Collaborators.build(self.settings, self.database, storage,
                                                 self.publisher)  # fmt: skip
        app = create_app(self.settings)
        app.state.collaborators = self.collaborators
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://scale")  # fmt: skip
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.run(self.client.aclose())
        self.run(self.database.dispose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def _get(self, path: str, token: str | None = None) -> Callable[[], httpx.Response]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        def call() -> httpx.Response:
            response: httpx.Response = self.run(self.client.get(path, headers=headers))
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
            return response

        return call

    def _queued(self, count: int, big_user: bool) -> list[tuple[int, int]]:
        owner = "owner_id = 1" if big_user else "owner_id <> 1"
        with self.sync_engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT id, owner_id FROM video WHERE status = 'queued' AND {owner} "
                "ORDER BY md5(id::text) LIMIT :n"), {"n": count}).all()  # fmt: skip
        return [(r.id, r.owner_id) for r in rows]

    def _token(self, user_id: int) -> str:
        return create_access_token(user_id, self.settings)

    def _cycle(self, calls: list[Callable[[], Any]]) -> Callable[[], Any]:
        state = {"i": 0}

        def call() -> Any:
            state["i"] += 1
            return calls[state["i"] % len(calls)]()

        return call

    def _cursor_after(self, path: str, offset: int, limit: int) -> str:
        """The X-Next-Cursor of the page that ends where `offset` begins."""
        start = max(offset - limit, 0)
        sep = "&" if "?" in path else "?"
        response = self._get(f"{path}{sep}limit={limit}&offset={start}")()
        return str(response.headers.get("X-Next-Cursor", ""))

    def calls(self, level: Level) -> dict[str, Callable[[], Any]]:
        one = self._queued(20, big_user=False)
        big = self._queued(1, big_user=True)
        detail = [self._get(f"/api/videos/{vid}", self._token(owner)) for vid, owner in one]
        lists = [self._get("/api/videos?limit=20", self._token(owner)) for _, owner in one]
        with self.sync_engine.connect() as conn:
            ranked = conn.scalar(text('SELECT count(*) FROM "user" WHERE published_videos > 0'))
            published = conn.scalar(text("SELECT count(*) FROM video WHERE published"))
        deep_ranking = min(1000, max(1, (ranked or 1) // 10))
        middle = max(0, (published or 0) // 2)
        rank_cursor = self._cursor_after("/api/public/rankings", (deep_ranking - 1) * 10, 10)
        public_cursor = self._cursor_after("/api/public/videos", middle, 20)
        sessions = sessionmaker(self.sync_engine, expire_on_commit=False)
        jobs = JobStore(sessions, self.settings.lease_seconds)
        storage = LocalStorage(self.settings.resolved_storage_dir)
        hub = self.collaborators.live_hub
        watched = [vid for vid, _ in self._queued(WATCHED, big_user=False)]

        def reconciler_round() -> None:  # worker/reconciler.py's round, nothing to do
            resend_stale_jobs(jobs, self.publisher, self.settings)
            purge_expired_originals(sessions, storage, self.settings.original_retention_seconds)
            sweep_expired_uploads(sessions, storage, self.settings.s3_part_bytes)
            due_deliveries(sessions, self.settings)

        calls: dict[str, Callable[[], Any]] = {
            # the in-process client and the app's stack alone, no database: every route's floor
            "GET / (no database: the stack's own cost)": self._get("/"),
            "GET /api/videos/{id} (queued)": self._cycle(detail),
            "GET /api/videos (20 items)": self._cycle(lists),
            "rankings page 1": self._get("/api/public/rankings"),
            f"rankings page {deep_ranking}": self._get(f"/api/public/rankings?page={deep_ranking}"),
            "rankings page 1, one city": self._get("/api/public/rankings?city=city%207"),
            "rankings deep page by cursor": self._get(f"/api/public/rankings?cursor={rank_cursor}"),
            "public videos page 1": self._get("/api/public/videos"),
            "public videos middle page (offset)": self._get(
                f"/api/public/videos?offset={middle}"),
            "public videos middle page (cursor)": self._get(
                f"/api/public/videos?cursor={public_cursor}"),
            "backlog (read_backlog)": lambda: self.run(read_backlog(self.database.engine)),
            "reconciler round, nothing to do": reconciler_round,
            f"live-event refresh round ({WATCHED} watched)": lambda: self.run(hub.current(watched)),
        }  # fmt: skip
        if big:
            vid, owner = big[0]
            calls["GET /api/videos/{id} (user with 10k videos)"] = self._get(
                f"/api/videos/{vid}", self._token(owner)
            )
            calls["GET /api/videos (20 items, user with 10k videos)"] = self._get(
                "/api/videos?limit=20", self._token(owner)
            )
        return calls
