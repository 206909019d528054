"""Object storage: local filesystem (embedded default) or S3-compatible, chosen by settings."""

from __future__ import annotations

from core.settings import Settings
from core.storage.base import (
    ObjectMissing,
    ObjectWriter,
    Storage,
    StorageError,
    original_key,
    output_keys,
    outputs_prefix,
)

__all__ = [
    "ObjectMissing",
    "ObjectWriter",
    "Storage",
    "StorageError",
    "make_storage",
    "original_key",
    "output_keys",
    "outputs_prefix",
]


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from core.storage.s3 import S3Storage

        return S3Storage(settings)
    from core.storage.local import LocalStorage

    return LocalStorage(settings.resolved_storage_dir)
