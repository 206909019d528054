"""Live job state for Server-Sent Events: one hub per API process fans notices out to streams.

Sources: the workers' Redis pub/sub notices (core/jobs/events.py) are pushed to the streams of
that video at once, with no database read. A refresher reads every watched row in one query (and
their queue positions in one more) when a job started or finished somewhere (the line moved),
every REFRESH_SECONDS otherwise (ETA drift, new uploads ahead in a fair line, deleted videos),
and every JOB_EVENTS_POLL_SECONDS on the embedded default, which has no pub/sub. However many
streams are open, a process makes those few queries; an open stream holds no database connection.

A stream keeps only the latest state (a slow client skips intermediate progress, never piles it
up), so its memory is constant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sse_starlette import ServerSentEvent

from app.videos.standing import Forecaster
from core.db import Database
from core.jobs.eta import Running
from core.jobs.events import JobEvent, pubsub_enabled
from core.models import Video, VideoStatus, as_utc, public_status
from core.settings import Settings

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0
MIN_REFRESH_GAP_SECONDS = 0.5
TERMINAL = {VideoStatus.processed.value, VideoStatus.failed.value, "deleted"}


@dataclass(frozen=True)
class LiveState:
    status: str
    progress: int
    queue_position: int | None
    eta_seconds: int | None
    error: str | None

    @property
    def event_id(self) -> str:
        """Changes exactly when an event is due (status, progress, place in line): a client
        reconnecting with it as Last-Event-ID is not sent the state it already has."""
        return f"{self.status}.{self.progress}.{self.queue_position or 0}"

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


GONE = LiveState("deleted", 0, None, None, "The video was deleted")


class Watch:
    """One stream's mailbox: the latest state and a flag."""

    def __init__(self) -> None:
        self.latest: LiveState | None = None
        self.changed = asyncio.Event()

    def offer(self, state: LiveState) -> None:
        if self.latest is None or state.event_id != self.latest.event_id or state.terminal:
            self.latest = state
            self.changed.set()

    async def next(self) -> LiveState:
        await self.changed.wait()
        self.changed.clear()
        assert self.latest is not None
        return self.latest


class LiveHub:
    def __init__(self, settings: Settings, database: Database, forecaster: Forecaster) -> None:
        self.settings, self.database, self.forecaster = settings, database, forecaster
        self.watches: dict[int, set[Watch]] = {}
        self.started: dict[int, float] = {}  # wall time a watched job's attempt started
        self.noticed: dict[int, float] = {}  # when a notice for a watched video last arrived
        self.line_moved = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._refresher(), name="live-refresher"))
        if pubsub_enabled(self.settings):
            self._tasks.append(asyncio.create_task(self._subscriber(), name="live-subscriber"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # ---------------------------------------------------------------- streams
    @contextlib.contextmanager
    def watch(self, video_id: int) -> Iterator[Watch]:
        watch = Watch()
        self.watches.setdefault(video_id, set()).add(watch)
        try:
            yield watch
        finally:
            watchers = self.watches.get(video_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self.watches[video_id]
                    self.started.pop(video_id, None)
                    self.noticed.pop(video_id, None)

    async def current(self, video_ids: list[int]) -> dict[int, LiveState]:
        """Read the rows (one query) and their standing (one more); a missing row is GONE."""
        async with self.database.sessions() as session:
            videos = list(await session.scalars(select(Video).where(Video.id.in_(video_ids))))
            standings = await self.forecaster.standings(session, videos)
        states = {vid: GONE for vid in video_ids}
        for v in videos:
            s, failed = standings[v.id], v.status == VideoStatus.failed
            error = v.error if failed else None
            states[v.id] = LiveState(
                public_status(v.status).value, v.progress, s.queue_position, s.eta_seconds, error
            )
            if v.status == VideoStatus.processing and v.started_at is not None:
                self.started.setdefault(v.id, as_utc(v.started_at).timestamp())
        return states

    def _push(self, video_id: int, state: LiveState) -> None:
        for watch in self.watches.get(video_id, ()):
            watch.offer(state)

    # ---------------------------------------------------------------- sources
    def on_notice(self, event: JobEvent) -> None:
        """A worker wrote a job's state: push it to that video's streams now, no DB read."""
        if event.status != VideoStatus.processing.value or event.progress == 0:
            self.line_moved.set()  # a job started or finished: positions behind it moved
        if event.video_id not in self.watches:
            return
        self.noticed[event.video_id] = time.monotonic()
        eta = None
        if event.status == VideoStatus.processing.value:
            if event.progress == 0:
                self.started[event.video_id] = event.at
            started = self.started.get(event.video_id, event.at)
            fleet = self.forecaster.cached_fleet()
            if fleet is not None:
                left = fleet.remaining(Running(max(time.time() - started, 0.0), event.progress))
                eta = None if left is None else round(left)
        error = event.error if event.status == VideoStatus.failed.value else None
        self._push(event.video_id, LiveState(event.status, event.progress, None, eta, error))

    async def _subscriber(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.settings.celery_broker_url)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.settings.job_events_channel)
                    self.line_moved.set()  # catch up on whatever happened while unsubscribed
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.on_notice(JobEvent.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis restarts: resubscribe, poll meanwhile
                log.warning("job event subscription lost (%s); retrying", exc)
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()

    async def _refresher(self) -> None:
        polled = not pubsub_enabled(self.settings)
        period = self.settings.job_events_poll_seconds if polled else REFRESH_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.line_moved.wait(), timeout=period)
            self.line_moved.clear()
            if self.watches:
                try:
                    began = time.monotonic()
                    for video_id, state in (await self.current(list(self.watches))).items():
                        # A notice that came in meanwhile may be newer than the row just read:
                        # it was pushed already; the next round reads that video again.
                        if self.noticed.get(video_id, 0.0) < began:
                            self._push(video_id, state)
                except Exception as exc:  # noqa: BLE001 - the database may be restarting
                    log.warning("live refresh failed: %s", exc)
            await asyncio.sleep(MIN_REFRESH_GAP_SECONDS)

    # ---------------------------------------------------------------- one stream
    async def stream(self, video_id: int, last_event_id: str | None) -> AsyncIterator[LiveState]:
        """The states one client is sent: the current one (unless it already has it), then
        every change, ending after a terminal state."""
        with self.watch(video_id) as watch:
            first = (await self.current([video_id]))[video_id]
            if first.event_id != last_event_id:
                yield first
            if first.terminal:
                return
            # A notice that came in during the read is delivered next — unless it is this state.
            if watch.latest is None or watch.latest.event_id == first.event_id:
                watch.latest = first
                watch.changed.clear()
            while True:
                state = await watch.next()
                yield state
                if state.terminal:
                    return


async def live_events(states: AsyncIterator[LiveState]) -> AsyncIterator[ServerSentEvent]:
    async for state in states:
        data = {"status": state.status, "progress": state.progress,
                "queue_position": state.queue_position, "eta_seconds": state.eta_seconds,
                "error": state.error}  # fmt: skip
        yield ServerSentEvent(data=json.dumps(data), id=state.event_id)
