"""A guard around kombu's Redis transport, so a Redis restart never kills a Celery worker.

The cause (kombu 5.7, celery 5.7; the same trace as celery/kombu#582): when the broker goes away,
Celery's consumer calls `Connection.collect()`. That closes the connection's channels one by one;
closing a channel restores its unacknowledged messages (late acks: the running tasks), which needs
Redis. With Redis down the first restore raises, the loop stops, and the remaining channels stay
open — then `collect()` detaches the transport from the connection (`transport.client = None`).
When Celery's restart later closes one of those channels, its restore asks for a new Redis client,
`Channel._connparams` reads `self.connection.client.hostname`, and the AttributeError (not a
connection error, so nothing ignores it) ends the worker: "Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")".

The guard turns that read into what it means — the broker connection is gone — by raising
redis-py's ConnectionError, one of the transport's connection errors, which Celery's clean-up
(`ignore_errors`) swallows. Nothing is lost by skipping that restore: the messages' jobs are in the
database, and the worker re-sends queued jobs when it reconnects (worker/reconnect.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

_connparams: Callable[..., Any] = kombu_redis.Channel._connparams


def _guarded_connparams(self: Any, asynchronous: bool = False) -> Any:
    if self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection was closed")
    return _connparams(self, asynchronous)


def install() -> None:
    """Idempotent: patch kombu's Redis channel once per process."""
    if kombu_redis.Channel._connparams is not _guarded_connparams:
        kombu_redis.Channel._connparams = _guarded_connparams  # type: ignore[method-assign]
