"""The counter tables: rows the database keeps with triggers (core/counters.py) so that no hot
path counts a table. Imported by core/models.py (one metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, where


class OwnerQueue(Base):
    """One owner's place in the fair queue, kept by triggers (core/counters.py): queued and
    running counts, when last served, and the head (the owner's best queued job)."""

    __tablename__ = "owner_queue"
    __table_args__ = (
        # The fair claim: fewest running, lane, served longest ago (never first), upload time.
        Index("ix_owner_queue_pick", "running", "head_lane",
              text("last_started ASC NULLS FIRST"), "head_at", "head_id",
              **where("queued > 0")).ddl_if(dialect="postgresql"),
        Index("ix_owner_queue_pick_lite", "running", "head_lane", "last_started", "head_at",
              "head_id", **where("queued > 0")).ddl_if(dialect="sqlite"),
    )  # fmt: skip

    owner_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    queued: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    last_started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    head_id: Mapped[int | None] = mapped_column(Integer)
    head_lane: Mapped[int | None] = mapped_column(Integer)
    head_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoundCount(Base):
    """Queued jobs per fair round, sharded (core/counters.py; read by core/jobs/positions.py)."""

    __tablename__ = "round_count"

    round: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jobs: Mapped[int] = mapped_column(Integer, default=0)


class QueueHistogram(Base):
    """Queued jobs per lane and minute of upload, sharded (core/counters.py): where a job falls
    among the queued ones by (lane, upload time), for positions (core/jobs/positions.py)."""

    __tablename__ = "queue_histogram"

    lane: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jobs: Mapped[int] = mapped_column(Integer, default=0)


class Tally(Base):
    """Fleet-wide counts, sharded: sum the shards of a name (core/counters.py)."""

    __tablename__ = "tally"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
