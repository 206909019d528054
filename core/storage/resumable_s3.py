"""Resumable uploads on S3 (see core/storage/resumable.py): a multipart upload on the original's
key, and a tail object for bytes that do not fill a part when a PATCH ends."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from botocore.exceptions import ClientError

from core.storage.base import ObjectMissing, StorageError
from core.storage.resumable import Appender, Progress, ResumableStore


def _missing(exc: ClientError, *codes: str) -> bool:
    return exc.response.get("Error", {}).get("Code") in codes


class _S3Appender:
    def __init__(
        self, store: S3Resumable, upload_id: str, key: str, offset: int, progress: Progress,
        head: bytes,
    ) -> None:  # fmt: skip
        self.store, self.upload_id, self.key = store, upload_id, key
        self.end = offset  # the upload's offset once this request's bytes are in
        self.progress = progress
        self.old_tail = progress.tail_key
        self.buffer = bytearray(head)
        self.completed_before = False  # the multipart upload is gone: see _close

    async def write(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)
        self.end += len(chunk)
        while len(self.buffer) >= self.store.part_bytes:
            part = bytes(self.buffer[: self.store.part_bytes])
            del self.buffer[: self.store.part_bytes]
            await self.store.run(self._upload_part, part)

    def _upload_part(self, data: bytes) -> None:
        if self.completed_before:
            return
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        if self.progress.backend_upload_id is None:
            created = s3.create_multipart_upload(Bucket=bucket, Key=self.key)
            self.progress.backend_upload_id = created["UploadId"]
        number = len(self.progress.parts) + 1  # the row's count: an unrecorded part is rewritten
        try:
            answer = s3.upload_part(
                Bucket=bucket,
                Key=self.key,
                UploadId=self.progress.backend_upload_id,
                PartNumber=number,
                Body=data,
            )
        except ClientError:
            if not self._multipart_gone():
                raise
            self.completed_before = True  # or aborted: _close tells which
            return
        self.progress.parts.append([number, answer["ETag"], len(data)])

    def _complete(self) -> None:
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        parts = [{"PartNumber": n, "ETag": etag} for n, etag, _ in self.progress.parts]
        try:
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key=self.key,
                UploadId=self.progress.backend_upload_id,
                MultipartUpload={"Parts": parts},
            )
        except ClientError:
            if not self._multipart_gone():
                raise
            self.completed_before = True

    def _multipart_gone(self) -> bool:
        """After a refused part or completion: is the multipart upload gone (completed or
        aborted)? S3 says NoSuchUpload to the part itself; some servers (moto) answer 500, so
        ask the upload's part list, which says NoSuchUpload on all of them."""
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        try:
            s3.list_parts(
                Bucket=bucket, Key=self.key, UploadId=self.progress.backend_upload_id, MaxParts=1
            )
        except ClientError as exc:
            return _missing(exc, "NoSuchUpload")
        return False

    def _finished_before(self) -> None:
        """The multipart upload is gone. If an earlier final PATCH completed it (and its record was
        lost), the object is there at the full length: the same bytes, since tus resends from the
        recorded offset. Otherwise it was aborted and the bytes are lost."""
        s3, bucket = self.store.s3.client, self.store.s3.bucket
        try:
            size = s3.head_object(Bucket=bucket, Key=self.key)["ContentLength"]
        except ClientError as exc:
            if not _missing(exc, "404", "NoSuchKey", "NotFound"):
                raise
            size = None
        if size != self.end:
            raise ObjectMissing(f"the multipart upload of upload {self.upload_id} is gone")

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
                if not self.completed_before:
                    self._complete()
                if self.completed_before:
                    self._finished_before()
                self.progress.backend_upload_id = None
        elif self.completed_before:
            raise ObjectMissing(f"the multipart upload of upload {self.upload_id} is gone")
        elif data:
            tail_key = f"uploads/{self.upload_id}/tail-{uuid.uuid4().hex[:12]}"
            s3.put_object(Bucket=bucket, Key=tail_key, Body=data)
            self.progress.tail_key, self.progress.tail_bytes = tail_key, len(data)
        if self.old_tail:  # its bytes are in a part, the new tail or the object: drop it once
            self.progress.superseded.append(self.old_tail)  # the row no longer names it

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
                try:
                    body = self.s3.client.get_object(Bucket=self.s3.bucket, Key=tail_key)["Body"]
                except ClientError as exc:
                    if _missing(exc, "NoSuchKey", "404"):
                        raise ObjectMissing(f"the tail of upload {upload_id} is gone") from exc
                    raise
                return bytes(body.read())

            head = await self.run(read_tail)
            if len(head) != progress.tail_bytes:
                raise ObjectMissing(
                    f"the tail of upload {upload_id} has {len(head)} bytes, "
                    f"{progress.tail_bytes} recorded"
                )
        return _S3Appender(self, upload_id, key, offset, progress, head)

    async def drop_superseded(self, progress: Progress) -> None:
        client, bucket = self.s3.client, self.s3.bucket

        def drop() -> None:
            for key in progress.superseded:
                client.delete_object(Bucket=bucket, Key=key)

        await self.run(drop)

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
