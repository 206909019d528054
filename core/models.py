"""ORM tables: singular snake_case names, *_at timestamps, an explicit naming convention."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class VideoStatus(enum.StrEnum):
    queued = "queued"
    processing = "processing"
    processed = "processed"
    failed = "failed"
    # Internal: released after a failure, claimable again at `retry_at` (clients see `queued`).
    retrying = "retrying"


class PublicStatus(enum.StrEnum):
    """The statuses clients see (the seed's): a job waiting for its retry is `queued`."""

    queued = "queued"
    processing = "processing"
    processed = "processed"
    failed = "failed"


def public_status(status: VideoStatus | str) -> PublicStatus:
    return PublicStatus.queued if status == VideoStatus.retrying else PublicStatus(status)


# SQLite reuses the largest deleted rowid without AUTOINCREMENT; ids must never come back
# (an old token or link would point at someone else's row). Postgres sequences never reuse.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def where(condition: str, sqlite: str | None = None) -> dict[str, Any]:
    """A partial index's predicate, written as the ORM renders it on each dialect (the planner
    uses the index only when the query's WHERE implies it)."""
    return {"postgresql_where": text(condition), "sqlite_where": text(sqlite or condition)}


QUEUED = "status = 'queued'"
RANKED = "published_videos > 0"


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        # rankings: users with a published video, most votes first (core/counters.py keeps both)
        Index("ix_user_ranking", text("votes_received DESC"), "id", **where(RANKED)),
        Index(
            "ix_user_city_ranking",
            func.lower(text("city")),
            text("votes_received DESC"),
            "id",
            **where(RANKED),
        ),  # fmt: skip
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    country: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Kept by triggers (core/counters.py): votes on this user's published videos, and how many.
    votes_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_videos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Video(Base):
    __tablename__ = "video"
    __table_args__ = (
        Index("ix_video_status_priority", "status", "priority", "uploaded_at"),
        Index("ix_video_status_processed_at", "status", "processed_at"),  # recent throughput
        # An owner's queued jobs in claim order: the head the fair claim takes (core/counters.py)
        Index(
            "ix_video_queue_owner", "owner_id", "priority", "uploaded_at", "id", **where(QUEUED)
        ),  # fmt: skip
        Index("ix_video_queued_at", "uploaded_at", **where(QUEUED)),  # backlog's oldest
        # an owner's videos, newest first (GET /api/videos: a page, not a sort of them all)
        Index("ix_video_owner_uploaded", "owner_id", text("uploaded_at DESC"), text("id DESC")),
        # lane promotion: queued jobs not yet in lane 0, oldest first
        Index("ix_video_queue_promote", "uploaded_at", **where(f"{QUEUED} AND priority > 0")),
        # the reconciler: queued since long ago; processing under a lease that ran out
        Index("ix_video_queued_enqueued_at", "enqueued_at", **where(QUEUED)),
        Index("ix_video_processing_lease", "lease_until", **where("status = 'processing'")),
        # retries backed off per job: the next one due (core/jobs/retries.py)
        Index("ix_video_retry_due", "retry_at", **where("status = 'retrying'")),
        # retention: processed originals not yet deleted
        Index(
            "ix_video_retention",
            "processed_at",
            **where("status = 'processed' AND original_purged_at IS NULL"),
        ),
        # the public list, newest first (the ORM renders `published IS true` / `IS 1`)
        Index(
            "ix_video_public",
            text("published_at DESC"),
            text("id DESC"),
            **where("published IS true", "published IS 1"),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[VideoStatus] = mapped_column(
        Enum(VideoStatus, native_enum=False, length=16), default=VideoStatus.queued, index=True
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    # "host:pid" of the worker process holding the claim: a dead one is seen at once on its host
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    original_key: Mapped[str] = mapped_column(String(512))
    original_content_type: Mapped[str] = mapped_column(String(64))
    original_bytes: Mapped[int] = mapped_column(BigInteger)
    # Set when the retention policy deleted the original (ORIGINAL_RETENTION_SECONDS).
    original_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Scheduling lane: 0 short, 1 normal, 2 background (core/jobs/scheduling.py)
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # by trigger
    # The retry budgets (core/jobs/retries.py): a `retrying` job is claimable from `retry_at`;
    # failures the job's input caused; interruptions the service caused, since when; claims
    # taken back from a worker that died holding the job.
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    interruptions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    interrupted_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker_losses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The output profile (core/profiles.py): its name and the definition the job was accepted
    # with (JSON; none on jobs from before profiles: the seed's reel).
    profile: Mapped[str] = mapped_column(String(40), default="reel", server_default="reel")
    profile_definition: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)  # what it made (JSON, worker/outputs.py)
    output_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


def status_is(status: VideoStatus) -> ColumnElement[bool]:
    """`video.status = '<value>'` with the value written into the SQL, never bound. A partial index
    on that status (ix_video_retry_due, ix_video_queue_owner, …) then stays usable in the generic
    plan Postgres makes for a prepared statement after a few runs; with a bound value it cannot
    prove the index's predicate, and an EXISTS/LIMIT probe may become a scan of the whole table
    (measured: a FIFO claim went from 2.5 ms to 100+ ms at 100k queued after ten claims)."""
    return Video.status == literal_column(f"'{status.value}'")


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("video_id", "user_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("video.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(Base):
    """An upload's Idempotency-Key: a replay within the window returns the first response."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    video_id: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Webhook(Base):
    """An owner's endpoint told of their videos' terminal states (core/webhooks)."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(String(255))  # comma-separated event types
    secret: Mapped[str] = mapped_column(String(64))  # whsec_…: signs deliveries; shown once
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """The outbox: written in the same transaction as the job's terminal state."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_…: the webhook-id header
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(32))
    video_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_response: Mapped[str | None] = mapped_column(Text)  # at most 1 KB of the body
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@event.listens_for(Base.metadata, "after_create")
def _install_counters(_target: object, connection: Connection, **_kw: object) -> None:
    from core.counters import install

    install(connection)


# The counter tables live in their own module; imported here so that one metadata has them all.
from core.counter_models import OwnerQueue as OwnerQueue  # noqa: E402
from core.counter_models import QueueHistogram as QueueHistogram  # noqa: E402
from core.counter_models import RoundCount as RoundCount  # noqa: E402
from core.counter_models import Tally as Tally  # noqa: E402
from core.upload_models import Upload as Upload  # noqa: E402
