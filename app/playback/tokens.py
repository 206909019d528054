"""Signed playback links: `<video id>.<expiry>.<signature>` in the URL path, since `<video>` and
hls.js cannot send an Authorization header. The signature (HMAC-SHA256 under the JWT secret, with
its own purpose prefix) covers the video id and the expiry, so a link cannot be widened to another
video or lengthened; which files it opens is decided by the route (the video's own HLS tree)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from core.settings import Settings

PURPOSE = b"reelforge-playback\0"


def _signature(secret: str, video_id: int, expires: int) -> str:
    mac = hmac.new(secret.encode(), PURPOSE + f"{video_id}.{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode().rstrip("=")


def sign(settings: Settings, video_id: int, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + settings.playback_link_seconds)
    return f"{video_id}.{expires}.{_signature(settings.jwt_secret, video_id, expires)}"


def verify(settings: Settings, token: str, now: float | None = None) -> int | None:
    """The video id the token opens, or None (malformed, forged, or expired)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    video_id, expires = int(parts[0]), int(parts[1])
    expected = _signature(settings.jwt_secret, video_id, expires)
    if not hmac.compare_digest(expected, parts[2]):
        return None
    if expires < (now if now is not None else time.time()):
        return None
    return video_id


def play_url(settings: Settings, video_id: int, path: str) -> str:
    """A signed link to one file of the video's HLS tree (`master.m3u8`, `720p/index.m3u8`)."""
    return f"/api/play/{sign(settings, video_id)}/{path}"
