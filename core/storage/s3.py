"""S3-compatible storage. Uploads stream as a multipart upload with one part buffered at a time
(bounded memory) and are aborted on any error or limit; downloads are presigned URLs, so the
API and the workers share nothing but the bucket."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.settings import Settings
from core.storage.base import Chunk, ObjectMissing, StorageError

_ERRORS = (BotoCoreError, ClientError)
log = logging.getLogger(__name__)


def _client(settings: Settings, endpoint: str | None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=settings.broker_timeout_seconds,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=50,
        ),
    )


class S3ObjectWriter:
    def __init__(self, storage: S3Storage, key: str) -> None:
        self.s3, self.bucket, self.key = storage.client, storage.bucket, key
        self.part_bytes = storage.part_bytes
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.bytes_written = 0

    async def write(self, chunk: Chunk) -> None:
        self.buffer.extend(chunk)
        self.bytes_written += len(chunk)
        if len(self.buffer) >= self.part_bytes:
            await self._flush_part()

    async def _flush_part(self) -> None:
        data, self.buffer = bytes(self.buffer), bytearray()
        try:
            await anyio.to_thread.run_sync(self._upload_part, data)
        except _ERRORS as exc:
            await self.abort()
            raise StorageError(f"S3 upload failed: {exc}") from exc

    def _upload_part(self, data: bytes) -> None:
        if self.upload_id is None:
            created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key)
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        part = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": part["ETag"]})

    def _commit(self) -> None:
        if self.upload_id is None:  # small object: one PUT
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            self._upload_part(bytes(self.buffer))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    async def commit(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._commit)
        except _ERRORS as exc:
            await self.abort()
            raise StorageError(f"S3 upload failed: {exc}") from exc

    def _abort(self) -> None:
        self.buffer = bytearray()
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)

    async def abort(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._abort)
        except _ERRORS as exc:  # an abort-incomplete-multipart lifecycle rule cleans up later
            log.warning("could not abort multipart upload of %s: %s", self.key, exc)


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.part_bytes = settings.s3_part_bytes
        self.presign_seconds = settings.s3_presign_seconds
        self.client = _client(settings, settings.s3_endpoint_url)
        self.presigner = _client(
            settings, settings.s3_public_endpoint_url or settings.s3_endpoint_url
        )
        self.transfer = TransferConfig(multipart_chunksize=self.part_bytes, max_concurrency=4)

    def open_writer(self, key: str) -> S3ObjectWriter:
        return S3ObjectWriter(self, key)

    def local_path(self, key: str) -> Path:
        raise StorageError("S3 objects have no local path; use download_url")

    def download_url(self, key: str, filename: str, media_type: str) -> str:
        url: str = self.presigner.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": media_type,
                "ResponseContentDisposition": f'inline; filename="{filename}"',
            },
            ExpiresIn=self.presign_seconds,
        )
        return url

    def delete_sync(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix_sync(self, prefix: str) -> None:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix.rstrip("/") + "/"
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:  # up to 1000 per page, S3's limit per delete_objects
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def read_sync(self, key: str, max_bytes: int) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            if int(answer.get("ContentLength") or 0) > max_bytes:
                raise StorageError(f"{key} is larger than {max_bytes} bytes")
            return bytes(answer["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(f"S3 object {key} does not exist") from exc
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc

    def exists_sync(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(str(exc)) from exc

    def download_sync(self, key: str, dest: Path) -> None:
        try:
            self.client.download_file(self.bucket, key, str(dest), Config=self.transfer)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(f"S3 object {key} does not exist") from exc
            raise StorageError(f"S3 download of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 download of {key} failed: {exc}") from exc

    def upload_sync(self, src: Path, key: str, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else None
        try:
            self.client.upload_file(
                str(src), self.bucket, key, ExtraArgs=extra, Config=self.transfer
            )
        except _ERRORS as exc:
            raise StorageError(f"S3 upload of {key} failed: {exc}") from exc

    def check_writable_sync(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def ensure_bucket_sync(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
