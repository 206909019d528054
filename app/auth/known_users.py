"""Recently authenticated users, per API process, for AUTH_USER_CACHE_SECONDS: a token's user is
looked up in the database once per window instead of on every request. A tus client sends one
PATCH per chunk; under load each lookup is a pooled connection checkout, and at 300 uploading
users those checkouts alone exhausted the pool (503). An account removed from the database keeps
working for at most that long (there is no API that removes accounts); 0 turns the cache off.

The cached rows are detached snapshots: handlers read them (`user.id`, names, city) and never add
them to a session."""

from __future__ import annotations

import time
from collections import OrderedDict

from core.models import User
from core.settings import Settings

MAX_ENTRIES = 10_000


class KnownUsers:
    def __init__(self, settings: Settings) -> None:
        self.seconds = settings.auth_user_cache_seconds
        self._entries: OrderedDict[int, tuple[float, User]] = OrderedDict()

    def get(self, user_id: int) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[user_id]
            return None
        return entry[1]

    def remember(self, user: User) -> None:
        if self.seconds <= 0:
            return
        self._entries[user.id] = (time.monotonic() + self.seconds, user)
        self._entries.move_to_end(user.id)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
