"""Object storage: local filesystem (embedded default) or S3-compatible, chosen by settings."""

from __future__ import annotations

from app.settings import Settings
from app.storage.base import ObjectWriter, Storage, StorageError, original_key, output_keys

__all__ = ["ObjectWriter", "Storage", "StorageError", "make_storage", "original_key", "output_keys"]


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from app.storage.s3 import S3Storage

        return S3Storage(settings)
    from app.storage.local import LocalStorage

    return LocalStorage(settings.resolved_storage_dir)
