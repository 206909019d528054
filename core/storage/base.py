"""The storage interface. Keys are server-generated, never the client's filename."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

# Local writers gather network chunks (often 16-64 KiB) into this much before one hop to a
# worker thread: a hop per chunk cost more API CPU than the write itself. Bounded per upload.
WRITE_BUFFER_BYTES = 256 * 1024
# What a writer accepts: the multipart receiver hands over views into the network chunk (no
# copy of its own); a writer copies what it keeps before it returns.
Chunk = bytes | bytearray | memoryview


class StorageError(Exception):
    """Storage failed for a reason that may go away (disk full, I/O error, S3 hiccup)."""


class ObjectMissing(StorageError):
    """The object is not there: asking again will not bring it back."""


class ObjectWriter(Protocol):
    bytes_written: int

    async def write(self, chunk: Chunk) -> None: ...
    async def commit(self) -> None: ...
    async def abort(self) -> None: ...


class Storage(Protocol):
    def open_writer(self, key: str) -> ObjectWriter: ...
    def local_path(self, key: str) -> Path: ...
    def download_url(self, key: str, filename: str, media_type: str) -> str | None:
        """A URL the client can fetch directly (presigned), or None to stream through the API."""
        ...

    def delete_sync(self, key: str) -> None: ...
    def delete_prefix_sync(self, prefix: str) -> None:
        """Delete every object under `prefix/` (a job's outputs: an HLS tree, previews)."""
        ...

    def download_sync(self, key: str, dest: Path) -> None: ...
    def upload_sync(self, src: Path, key: str, content_type: str | None = None) -> None: ...
    def exists_sync(self, key: str) -> bool: ...
    def read_sync(self, key: str, max_bytes: int) -> bytes:
        """A small object's bytes (a playlist); ObjectMissing if absent, StorageError if larger."""
        ...

    def check_writable_sync(self) -> None: ...


def original_key(video_uuid: str) -> str:
    return f"originals/{video_uuid}/original"


def outputs_prefix(video_id: int) -> str:
    """Every output of every attempt of a job lives under this prefix (deleted with the job)."""
    return f"outputs/{video_id}"


def output_keys(video_id: int, attempt: int) -> tuple[str, str]:
    base = f"{outputs_prefix(video_id)}/attempt-{attempt}"
    return f"{base}/processed.mp4", f"{base}/thumbnail.jpg"
