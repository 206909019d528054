"""Failed logins per account: after LOGIN_FAILURES_PER_ACCOUNT failures for one email — from
any number of IPs or accounts — that email's logins answer 429 until the window moves on. The
counters live in the rate limiter's store (Redis in production, shared by every API process);
if it is unreachable they fall back to this process's memory, so the limit still applies."""

from __future__ import annotations

import hashlib
import logging

import anyio
from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests
from app.ratelimit import storage_uri
from core.settings import Settings

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self.item = parse(settings.login_failures_per_account)
        uri = storage_uri(settings)
        options = (
            {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
            if uri.startswith("redis")
            else {}
        )
        shared = storage_from_string(uri, **options)
        assert isinstance(shared, Storage)  # a sync store: the URI has no "async+" scheme
        self.shared = shared
        self.fallback = MovingWindowRateLimiter(MemoryStorage())
        self.limiter = MovingWindowRateLimiter(self.shared)

    @staticmethod
    def _key(email: str) -> str:
        return "login-failures:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()

    def _test(self, key: str) -> bool:
        try:
            return self.limiter.test(self.item, key)
        except Exception:  # the shared store is down: count in this process instead
            log.warning("login throttle store unreachable; using process memory")
            return self.fallback.test(self.item, key)

    def _hit(self, key: str) -> None:
        try:
            self.limiter.hit(self.item, key)
        except Exception:  # see _test
            self.fallback.hit(self.item, key)

    async def check(self, email: str) -> None:
        if not await anyio.to_thread.run_sync(self._test, self._key(email)):
            raise TooManyRequests(
                "Too many failed logins for this account; try again later",
                {"Retry-After": str(int(self.item.get_expiry()))},
            )

    async def failed(self, email: str) -> None:
        await anyio.to_thread.run_sync(self._hit, self._key(email))
