"""Idempotency-Key on upload: a retried request (same user, same key, same upload, within the
window) gets the original response and creates nothing; the same key for another upload is 422."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, DomainError
from app.videos.upload import ReceivedUpload
from core.models import IdempotencyKey, Video, as_utc, utcnow
from core.profiles import DEFAULT_PROFILE

WINDOW = timedelta(hours=24)
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyReused(DomainError):
    status_code = 422


def validated(key: str | None) -> str | None:
    if key is None:
        return None
    if not _VALID.match(key):
        raise BadRequest("Idempotency-Key must be 1-255 visible ASCII characters")
    return key


def fingerprint(upload: ReceivedUpload) -> str:
    """Same title, same bytes, same profile. The default profile adds nothing, so keys recorded
    before profiles existed still match their replays."""
    profile = "" if upload.profile.name == DEFAULT_PROFILE else f"\0{upload.profile.name}"
    return hashlib.sha256(f"{upload.title}\0{upload.sha256}{profile}".encode()).hexdigest()


async def find(session: AsyncSession, user_id: int, key: str) -> IdempotencyKey | None:
    """The live record for this key. An expired one — or one whose video has been deleted since
    (replaying its 202 would point at nothing) — is removed, so the key can be used again."""
    record = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if record is None:
        return None
    video_gone = await session.get(Video, record.video_id) is None
    if video_gone or as_utc(record.created_at) < utcnow() - WINDOW:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record.id))
        return None
    return record


def replay(record: IdempotencyKey, upload: ReceivedUpload) -> str:
    if record.fingerprint != fingerprint(upload):
        raise KeyReused("Idempotency-Key was already used for a different upload")
    return record.response
