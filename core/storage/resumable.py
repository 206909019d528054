"""Resumable uploads in storage: bytes appended across requests, with no state kept in any API
process — what an append needs is passed in from the upload's row and handed back to it.

- Local: the bytes are appended to `uploads/<id>` under the storage folder, truncated first to
  the recorded offset (a PATCH that died after writing but before recording leaves no garbage);
  the finished file is renamed to the original's key.
- S3: an S3 multipart upload on the original's key. Parts must be ≥ 5 MiB except the last, so
  bytes that do not fill a part when a PATCH ends are kept as a *tail object* in the bucket
  (`uploads/<id>/tail-<n>`, as tusd's s3store keeps its "incomplete part") and prepended to the
  next PATCH's bytes. Memory per PATCH in flight: one part.

The row is the truth, and a PATCH whose bytes reached storage but whose row was never updated (the
database restarted in between, or S3 answered too late) must leave the recorded state usable: the
next PATCH starts again from the recorded offset. So nothing the row still names is deleted before
the row moves on (`Progress.superseded` is dropped after the record), and a final PATCH retried
after its multipart upload was completed finds the finished object instead of failing forever.
Bytes that are gone for good (a tail deleted by hand, an aborted multipart upload) raise
ObjectMissing: the upload cannot resume and the client must start again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio

from core.storage.base import WRITE_BUFFER_BYTES, ObjectMissing, Storage, StorageError


@dataclass
class Progress:
    """What the upload's row records about its bytes."""

    backend_upload_id: str | None = None
    parts: list[list[Any]] = field(default_factory=list)  # [number, etag, bytes]
    tail_key: str | None = None
    tail_bytes: int = 0
    # Objects the new state no longer needs: deleted once the row records it (drop_superseded).
    superseded: list[str] = field(default_factory=list)

    @classmethod
    def from_row(
        cls, backend_upload_id: str | None, parts: str, tail_key: str | None, tail_bytes: int
    ) -> Progress:
        return cls(backend_upload_id, json.loads(parts or "[]"), tail_key, tail_bytes)

    def parts_json(self) -> str:
        return json.dumps(self.parts)


class Appender(Protocol):
    """One request's bytes: write() as they arrive, then close(); abort() on a discarded chunk."""

    async def write(self, chunk: bytes) -> None: ...
    async def close(self, final: bool) -> Progress: ...


class ResumableStore(Protocol):
    async def open(self, upload_id: str, key: str, offset: int, progress: Progress) -> Appender: ...
    def discard_sync(self, upload_id: str, key: str, progress: Progress) -> None: ...

    async def discard(self, upload_id: str, key: str, progress: Progress) -> None:
        """Delete an unfinished upload's bytes (abort its S3 multipart upload, drop its tail)."""
        await anyio.to_thread.run_sync(self.discard_sync, upload_id, key, progress)

    async def drop_superseded(self, progress: Progress) -> None:
        """After the row recorded `progress`: delete what the old state needed (S3's old tail).
        Local appends truncate in place and leave nothing behind."""
        return None


def resumable_store(storage: Storage, part_bytes: int) -> ResumableStore:
    from core.storage.local import LocalStorage

    if isinstance(storage, LocalStorage):
        return LocalResumable(storage.root)
    from core.storage.resumable_s3 import S3Resumable
    from core.storage.s3 import S3Storage

    if isinstance(storage, S3Storage):
        return S3Resumable(storage, part_bytes)
    raise StorageError(f"no resumable uploads for {type(storage).__name__}")


# ------------------------------------------------------------------------------------ local
class _LocalAppender:
    def __init__(self, path: Path, final: Path, offset: int) -> None:
        self.path, self.final = path, final
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115 - closed in close
        self.file.truncate(offset)
        self.file.seek(offset)
        self.buffer = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.buffer += chunk  # one thread hop per WRITE_BUFFER_BYTES, not per network chunk
        if len(self.buffer) >= WRITE_BUFFER_BYTES:
            data, self.buffer = self.buffer, bytearray()
            try:
                await anyio.to_thread.run_sync(self.file.write, data)
            except OSError as exc:
                raise StorageError(str(exc)) from exc

    def _close(self, final: bool) -> None:
        self.file.write(self.buffer)  # what arrived is kept, also when the body was cut
        self.buffer = bytearray()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if final:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, self.final)

    async def close(self, final: bool) -> Progress:
        try:
            await anyio.to_thread.run_sync(self._close, final)
        except OSError as exc:
            raise StorageError(str(exc)) from exc
        return Progress()


class LocalResumable(ResumableStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, upload_id: str) -> Path:
        return self.root / "uploads" / upload_id

    async def open(self, upload_id: str, key: str, offset: int, progress: Progress) -> Appender:
        def opened() -> _LocalAppender:
            path, final = self._path(upload_id), self.root / key
            if offset and not path.exists():
                if not final.exists():
                    raise ObjectMissing(f"the bytes of upload {upload_id} are gone")
                # A final PATCH renamed the file but its record was lost: the row still says the
                # upload is unfinished and nothing refers to the original yet, so take it back.
                os.replace(final, path)
            return _LocalAppender(path, final, offset)

        try:
            return await anyio.to_thread.run_sync(opened)
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    def discard_sync(self, upload_id: str, key: str, progress: Progress) -> None:
        try:
            self._path(upload_id).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not delete the partial upload: {exc}") from exc
