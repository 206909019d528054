"""tus 1.0.0 on the wire: the headers, their parsing and the protocol's own status codes.
https://tus.io/protocols/resumable-upload (core + creation, creation-with-upload, termination,
expiration, checksum)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from email.utils import format_datetime

from app.errors import BadRequest, DomainError

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
# Every header a browser client must be able to read (CORS) and send.
EXPOSED_HEADERS = [
    "Location",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    "Upload-Metadata",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "X-Video-ID",
    "Link",
]
REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Checksum",
    "Tus-Resumable",
    "Upload-Concat",
    "Upload-Defer-Length",
    "X-Request-ID",
    "X-HTTP-Method-Override",
]


class PreconditionFailed(DomainError):
    status_code = 412

    def __init__(self) -> None:
        super().__init__(f"Tus-Resumable must be {TUS_VERSION}", {"Tus-Version": TUS_VERSION})


class Gone(DomainError):
    status_code = 410


class Locked(DomainError):
    status_code = 423


class ChecksumMismatch(DomainError):
    status_code = 460


def require_version(value: str | None) -> None:
    if value != TUS_VERSION:
        raise PreconditionFailed()


def parse_length(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str]:
    """`key base64,key2 base64,key3` → {key: text}; values are UTF-8 or rejected."""
    out: dict[str, str] = {}
    if not value:
        return out
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2:
            raise BadRequest("Upload-Metadata must be comma-separated 'key base64value' pairs")
        try:
            decoded = base64.b64decode(parts[1], validate=True) if len(parts) == 2 else b""
            out[parts[0]] = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"Upload-Metadata value of {parts[0]!r} is not base64 UTF-8") from None
    return out


def parse_checksum(value: str | None) -> tuple[str, bytes] | None:
    """`Upload-Checksum: sha1 <base64 digest>` → (algorithm, digest)."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(
            f"Unsupported checksum algorithm; use one of {', '.join(CHECKSUM_ALGORITHMS)}"
        )
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum digest is not base64") from None


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)
