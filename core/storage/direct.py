"""Direct-to-S3 uploads: the client PUTs parts to presigned URLs for one key the server chose, so
the bytes never touch the API — the shape of Uppy's @uppy/aws-s3 multipart flow (create, sign
each part, list parts to resume, complete, abort). Sync calls; the API runs them in a thread."""

from __future__ import annotations

from typing import Any

from core.storage.base import StorageError

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


class DirectUploads:
    def __init__(self, s3: Any, part_url_seconds: int) -> None:
        from core.storage.s3 import S3Storage

        if not isinstance(s3, S3Storage):
            raise StorageError("direct uploads need the S3 storage backend")
        self.s3, self.seconds = s3, part_url_seconds

    def _call(self, name: str, **params: Any) -> Any:
        from core.storage.s3 import _ERRORS

        try:
            return getattr(self.s3.client, name)(Bucket=self.s3.bucket, **params)
        except _ERRORS as exc:
            raise StorageError(f"S3 {name} failed: {exc}") from exc

    def create(self, key: str, content_type: str = "application/octet-stream") -> str:
        return str(
            self._call("create_multipart_upload", Key=key, ContentType=content_type)["UploadId"]
        )

    def sign_part(self, key: str, upload_id: str, part_number: int) -> str:
        url: str = self.s3.presigner.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.s3.bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": part_number,
            },
            ExpiresIn=self.seconds,
        )
        return url

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            page = self._call("list_parts", Key=key, UploadId=upload_id, PartNumberMarker=marker)
            parts += [
                {"part_number": p["PartNumber"], "size": p["Size"], "etag": p["ETag"]}
                for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        self._call(
            "complete_multipart_upload",
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
        )

    def abort(self, key: str, upload_id: str) -> None:
        self._call("abort_multipart_upload", Key=key, UploadId=upload_id)

    def size(self, key: str) -> int:
        return int(self._call("head_object", Key=key)["ContentLength"])

    def first_bytes(self, key: str, count: int) -> bytes:
        body = self._call("get_object", Key=key, Range=f"bytes=0-{count - 1}")["Body"]
        return bytes(body.read())

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=key)
