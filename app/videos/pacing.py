"""Upload pacing: a body that is too slow is cut with 408 — a steady drip as well as a stall —
so slow clients cannot hold API workers, connections and (in S3 mode) part buffers forever."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio

from app.errors import RequestTimeout
from core.settings import Settings


async def paced(chunks: AsyncIterator[bytes], settings: Settings) -> AsyncIterator[bytes]:
    """The body's chunks, cut with 408 when the upload is too slow: after the grace period its
    average rate must stay at or above UPLOAD_MIN_BYTES_PER_SECOND — so a steady drip is cut,
    not only a stall — and it must end within UPLOAD_DEADLINE_SECONDS."""
    rate, grace = settings.upload_min_bytes_per_second, settings.upload_rate_grace_seconds
    deadline = settings.upload_deadline_seconds
    started, total = time.monotonic(), 0
    iterator = aiter(chunks)
    while True:
        # The latest moment the next chunk may arrive before a limit is broken.
        limits = [deadline] if deadline > 0 else []
        if rate > 0:
            limits.append(max(grace, total / rate))
        wait = min(limits) - (time.monotonic() - started) if limits else None
        try:
            with anyio.fail_after(max(wait, 0.0) if wait is not None else None):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            elapsed = time.monotonic() - started
            if deadline > 0 and elapsed >= deadline:
                raise RequestTimeout(f"Upload took longer than {deadline:g} s") from None
            raise RequestTimeout(
                f"Upload too slow: {total / max(elapsed, 1e-6):.0f} bytes/s, the minimum is "
                f"{rate} bytes/s"
            ) from None
        total += len(chunk)
        yield chunk
