"""Upload pacing: a body that is too slow is cut with 408 — a steady drip as well as a stall —
so slow clients cannot hold API workers, connections and (in S3 mode) part buffers forever.

After UPLOAD_RATE_GRACE_SECONDS the average rate must stay at or above
UPLOAD_MIN_BYTES_PER_SECOND, and the whole body must arrive within UPLOAD_DEADLINE_SECONDS.
One cancel scope covers the whole body; its deadline — the latest moment the next byte may
arrive — is moved only when it comes close or the bytes received have doubled since it was
set, so a fast upload costs a few timer updates, not one per chunk (docs/performance.md).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio

from app.errors import RequestTimeout
from core.settings import Settings

RESCHEDULE_MARGIN_SECONDS = 2.0


class _Budget:
    def __init__(self, settings: Settings) -> None:
        self.rate = settings.upload_min_bytes_per_second
        self.grace = settings.upload_rate_grace_seconds
        self.deadline = settings.upload_deadline_seconds
        self.started = time.monotonic()
        self.total = 0

    def next_byte_due(self) -> float:
        """Monotonic time by which the next byte must have arrived (inf: no limit)."""
        limits = [self.deadline] if self.deadline > 0 else []
        if self.rate > 0:
            limits.append(max(self.grace, self.total / self.rate))
        return self.started + min(limits) if limits else float("inf")

    def error(self) -> RequestTimeout:
        elapsed = time.monotonic() - self.started
        if self.deadline > 0 and elapsed >= self.deadline:
            return RequestTimeout(f"Upload took longer than {self.deadline:g} s")
        return RequestTimeout(
            f"Upload too slow: {self.total / max(elapsed, 1e-6):.0f} bytes/s, the minimum is "
            f"{self.rate} bytes/s"
        )


async def receive_paced(
    chunks: AsyncIterator[bytes], settings: Settings, on_chunk: Callable[[bytes], Awaitable[None]]
) -> None:
    """Feed every chunk to `on_chunk`; RequestTimeout when the body is too slow."""
    budget = _Budget(settings)
    loop_time_offset = anyio.current_time() - time.monotonic()
    set_at_total = 0  # bytes received when the deadline was last set
    with anyio.CancelScope(deadline=budget.next_byte_due() + loop_time_offset) as scope:
        async for chunk in chunks:
            budget.total += len(chunk)
            # Move the deadline when it comes close, or when the bytes received have doubled
            # since it was last set: a few reschedules per upload (~8 for 18 MB), and the
            # budget is worked out only then, not per chunk. The second rule is not an
            # optimisation: with the first alone, the deadline stayed at the grace period's
            # end, and an upload far above the minimum rate that paused across that moment
            # was cut (408 at 807 kB/s, 300 users in `make bench`). (It never has to come
            # earlier: the due time only grows with the bytes received.) time.monotonic() +
            # offset, not anyio.current_time(): the same clock without anyio's backend lookup.
            left = scope.deadline - loop_time_offset - time.monotonic()
            if left < RESCHEDULE_MARGIN_SECONDS or budget.total >= 2 * set_at_total:
                scope.deadline = budget.next_byte_due() + loop_time_offset
                set_at_total = budget.total
            await on_chunk(chunk)
    if scope.cancelled_caught:
        raise budget.error()
