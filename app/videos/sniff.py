"""What container an upload is, judged by its first bytes (magic numbers), before any of it
reaches storage."""

from __future__ import annotations

SNIFF_BYTES = 64


def sniff_container(head: bytes) -> str | None:
    """MIME type of a supported container judged by its magic bytes, or None."""
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:SNIFF_BYTES] else "video/x-matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    return None


def human_bytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n} bytes"
