"""Resumable uploads in storage: bytes appended across requests, with no state kept in any API
process — what an append needs is passed in from the upload's row and handed back to it.

- Local: the bytes are appended to `uploads/<id>` under the storage folder, truncated first to
  the recorded offset (a PATCH that died after writing but before recording leaves no garbage);
  the finished file is renamed to the original's key.
- S3: an S3 multipart upload on the original's key. Parts must be ≥ 5 MiB except the last, so
  bytes that do not fill a part when a PATCH ends are kept as a *tail object* in the bucket
  (`uploads/<id>/tail-<n>`, as tusd's s3store keeps its "incomplete part") and prepended to the
  next PATCH's bytes. Memory per PATCH in flight: one part.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from botocore.exceptions import ClientError

from core.storage.base import WRITE_BUFFER_BYTES, Storage, StorageError


@dataclass
class Progress:
    """What the upload's row records about its bytes."""

    backend_upload_id: str | None = None
    parts: list[list[Any]] = field(default_factory=list)  # [number, etag, bytes]
    tail_key: str | None = None
    tail_bytes: int = 0

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


def resumable_store(storage: Storage, part_bytes: int) -> ResumableStore:
    from core.storage.local import LocalStorage

    if isinstance(storage, LocalStorage):
        return LocalResumable(storage.root)
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
            await anyio.to_thread.run_sync(self.file.write, data)

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
            return _LocalAppender(self._path(upload_id), self.root / key, offset)

        try:
            return await anyio.to_thread.run_sync(opened)
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    def discard_sync(self, upload_id: str, key: str, progress: Progress) -> None:
        try:
            self._path(upload_id).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not delete the partial upload: {exc}") from exc


# --------------------------------------------------------------------------------------- S3
class _S3Appender:
    def __init__(
        self, store: S3Resumable, upload_id: str, key: str, progress: Progress, head: bytes
    ) -> None:
        self.store, self.upload_id, self.key = store, upload_id, key
        self.progress = progress
        self.old_tail = progress.tail_key
        self.buffer = bytearray(head)

    async def write(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)
        while len(self.buffer) >= self.store.part_bytes:
            part = bytes(self.buffer[: self.store.part_bytes])
            del self.buffer[: self.store.part_bytes]
            await self.store.run(self._upload_part, part)

    def _upload_part(self, data: bytes) -> None:
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        if self.progress.backend_upload_id is None:
            created = s3.create_multipart_upload(Bucket=bucket, Key=self.key)
            self.progress.backend_upload_id = created["UploadId"]
        number = len(self.progress.parts) + 1
        answer = s3.upload_part(
            Bucket=bucket,
            Key=self.key,
            UploadId=self.progress.backend_upload_id,
            PartNumber=number,
            Body=data,
        )
        self.progress.parts.append([number, answer["ETag"], len(data)])

    def _close(self, final: bool) -> None:
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        data = bytes(self.buffer)
        self.progress.tail_key, self.progress.tail_bytes = None, 0
        if final:
            if self.progress.backend_upload_id is None:
                s3.put_object(Bucket=bucket, Key=self.key, Body=data)
            else:
                if data:
                    self._upload_part(data)
                parts = [{"PartNumber": n, "ETag": etag} for n, etag, _ in self.progress.parts]
                s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self.key,
                    UploadId=self.progress.backend_upload_id,
                    MultipartUpload={"Parts": parts},
                )
                self.progress.backend_upload_id = None
        elif data:
            tail_key = f"uploads/{self.upload_id}/tail-{uuid.uuid4().hex[:12]}"
            s3.put_object(Bucket=bucket, Key=tail_key, Body=data)
            self.progress.tail_key, self.progress.tail_bytes = tail_key, len(data)
        if self.old_tail:  # consumed: its bytes are in a part, the new tail or the object
            s3.delete_object(Bucket=bucket, Key=self.old_tail)

    async def close(self, final: bool) -> Progress:
        await self.store.run(self._close, final)
        return self.progress


class S3Resumable(ResumableStore):
    def __init__(self, s3: Any, part_bytes: int) -> None:
        self.s3 = s3
        self.part_bytes = max(part_bytes, 5 * 1024 * 1024)  # S3's minimum part size

    async def run(self, fn: Any, *args: Any) -> Any:
        from core.storage.s3 import _ERRORS

        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except _ERRORS as exc:
            raise StorageError(f"S3 upload failed: {exc}") from exc

    async def open(self, upload_id: str, key: str, offset: int, progress: Progress) -> Appender:
        head = b""
        if progress.tail_key:
            tail_key = progress.tail_key

            def read_tail() -> bytes:
                body = self.s3.client.get_object(Bucket=self.s3.bucket, Key=tail_key)["Body"]
                return bytes(body.read())

            head = await self.run(read_tail)
            if len(head) != progress.tail_bytes:
                raise StorageError(
                    f"tail of upload {upload_id} has {len(head)} bytes, "
                    f"{progress.tail_bytes} recorded"
                )
        return _S3Appender(self, upload_id, key, progress, head)

    def discard_sync(self, upload_id: str, key: str, progress: Progress) -> None:
        from core.storage.s3 import _ERRORS

        client, bucket = self.s3.client, self.s3.bucket
        try:
            if progress.backend_upload_id:
                try:
                    client.abort_multipart_upload(
                        Bucket=bucket, Key=key, UploadId=progress.backend_upload_id
                    )
                except ClientError as exc:  # already completed or aborted: nothing to free
                    if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                        raise
            listed = client.list_objects_v2(Bucket=bucket, Prefix=f"uploads/{upload_id}/")
            for item in listed.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        except _ERRORS as exc:
            raise StorageError(f"S3 clean-up failed: {exc}") from exc
