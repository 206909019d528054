"""The `upload` table: resumable (tus) and direct-to-S3 uploads in progress. Imported by
core/models.py (one metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


class Upload(Base):
    """A resumable (tus) or direct-to-S3 upload in progress: its offset and storage state live
    here, the bytes in storage, so consecutive requests may land on different API machines."""

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex, never a path
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # "tus": bytes through the API; "direct": the client PUTs parts to presigned S3 URLs
    mode: Mapped[str] = mapped_column(String(8), default="tus", server_default="tus")
    title: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(255))  # the client's; never used as a path
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    key: Mapped[str] = mapped_column(String(512))  # the original's storage key once complete
    content_type: Mapped[str | None] = mapped_column(String(64))  # sniffed from the first bytes
    head: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # first bytes, until sniffed
    backend_upload_id: Mapped[str | None] = mapped_column(String(1024))  # S3 multipart upload
    parts: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[number, etag, bytes], …]
    tail_key: Mapped[str | None] = mapped_column(String(512))  # S3: bytes below a part's minimum
    tail_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    lock_token: Mapped[str | None] = mapped_column(String(32))
    lock_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    video_id: Mapped[int | None] = mapped_column(Integer)
    # The output profile chosen at creation, and its definition then (core/profiles.py)
    profile: Mapped[str] = mapped_column(String(40), default="reel", server_default="reel")
    profile_definition: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
