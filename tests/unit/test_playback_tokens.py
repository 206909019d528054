"""Signed playback links (app/playback/tokens.py): valid until their expiry, for their own video
only, and not forgeable without the secret."""

from __future__ import annotations

from app.playback.tokens import play_url, sign, verify
from core.settings import Settings

SETTINGS = Settings(environment="dev", playback_link_seconds=600)


def test_a_link_opens_its_video_until_it_expires() -> None:
    token = sign(SETTINGS, 42, now=1_000_000)
    assert verify(SETTINGS, token, now=1_000_000) == 42
    assert verify(SETTINGS, token, now=1_000_600) == 42
    assert verify(SETTINGS, token, now=1_000_601) is None  # expired


def test_a_link_cannot_be_widened_lengthened_or_forged() -> None:
    video_id, expires, signature = sign(SETTINGS, 42, now=1_000_000).split(".")
    assert verify(SETTINGS, f"43.{expires}.{signature}", now=1_000_000) is None
    assert verify(SETTINGS, f"42.{int(expires) + 86400}.{signature}", now=1_000_000) is None
    other = Settings(environment="dev", jwt_secret="another-secret-of-at-least-32-chars!!")
    assert verify(other, f"{video_id}.{expires}.{signature}", now=1_000_000) is None
    for junk in ("", "42", "42.x.y", "a.b.c", "42.1.", "-1.1.abc", f"42.{expires}.{signature}.x"):
        assert verify(SETTINGS, junk, now=1_000_000) is None


def test_play_url_names_the_file_under_the_link() -> None:
    url = play_url(SETTINGS, 7, "720p/index.m3u8")
    link = url.split("/")[3]
    assert url == f"/api/play/{link}/720p/index.m3u8" and verify(SETTINGS, link) == 7
