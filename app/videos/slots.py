"""How many uploads one API process receives at once — in all, and per user — so a few slow or
hostile clients cannot take every worker, connection or (in S3 mode) part buffer. Refusals are
immediate: 429 for a user over their share, 503 with Retry-After when the process is full."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.errors import ServiceUnavailable, TooManyRequests
from core.settings import Settings

RETRY_AFTER_SECONDS = 5


class UploadSlots:
    def __init__(self, per_process: int, per_user: int) -> None:
        self.per_process, self.per_user = per_process, per_user
        self.active = 0
        self.by_user: Counter[int] = Counter()

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadSlots:
        per_process = settings.uploads_max_per_process
        if settings.storage_backend == "s3":  # each open S3 upload buffers one part
            by_memory = max(1, settings.s3_upload_memory_budget_bytes // settings.s3_part_bytes)
            per_process = min(per_process, by_memory)
        return cls(per_process, settings.uploads_max_per_user)

    @asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        """One event loop per process: the counters need no lock (no await between check and
        increment)."""
        if self.per_user and self.by_user[user_id] >= self.per_user:
            raise TooManyRequests(
                f"You already have {self.per_user} uploads in progress; finish one first",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if self.per_process and self.active >= self.per_process:
            raise ServiceUnavailable(
                "Too many uploads in progress on this server; retry shortly",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.active += 1
        self.by_user[user_id] += 1
        try:
            yield
        finally:
            self.active -= 1
            self.by_user[user_id] -= 1
            if self.by_user[user_id] <= 0:
                del self.by_user[user_id]
