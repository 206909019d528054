"""Local-filesystem storage (the embedded default). Writes go to a temporary sibling and are
renamed into place on commit, so a reader never sees a half-written object and an aborted upload
leaves nothing behind.

Small network chunks (often 16–64 KiB) are gathered into WRITE_BUFFER_BYTES before one hop to a
worker thread: a thread hop per chunk cost more API CPU than the write itself (py-spy, 100 users).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

import anyio

from core.storage.base import WRITE_BUFFER_BYTES, Chunk, ObjectMissing, StorageError


class LocalObjectWriter:
    def __init__(self, final_path: Path) -> None:
        self._final = final_path
        self._tmp = final_path.with_name(f".{final_path.name}.{uuid.uuid4().hex}.part")
        self._file: BinaryIO | None = None
        self._buffer = bytearray()
        self.bytes_written = 0

    def _open(self) -> BinaryIO:
        self._tmp.parent.mkdir(parents=True, exist_ok=True)
        return open(self._tmp, "wb")  # noqa: SIM115 - closed in commit/abort

    async def write(self, chunk: Chunk) -> None:
        self._buffer += chunk
        self.bytes_written += len(chunk)
        if len(self._buffer) >= WRITE_BUFFER_BYTES:
            data, self._buffer = self._buffer, bytearray()
            try:
                await anyio.to_thread.run_sync(self._write, data)
            except OSError as exc:  # a full disk, an I/O error: storage's, never the database's
                raise StorageError(str(exc)) from exc

    def _write(self, data: bytes | bytearray) -> None:
        if self._file is None:
            self._file = self._open()
        self._file.write(data)

    def _commit(self) -> None:
        self._write(self._buffer)
        self._buffer = bytearray()
        assert self._file is not None
        self._file.close()
        os.replace(self._tmp, self._final)

    async def commit(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._commit)
        except OSError as exc:
            await self.abort()
            raise StorageError(str(exc)) from exc

    def _abort(self) -> None:
        if self._file is not None:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    async def abort(self) -> None:
        await anyio.to_thread.run_sync(self._abort)


def _link_or_copy(src: Path, dest: Path) -> None:
    """A hard link when both paths share a filesystem (no bytes copied: the worker's scratch
    folder and the storage folder usually do), else a copy."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


_UNSAFE_SEGMENTS = frozenset({"", ".", ".."})  # "" also catches a leading "/" and "a//b"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def local_path(self, key: str) -> Path:
        """The file for `key` under the root. Judged on the key's text, not by resolving the
        path: `resolve()` stats every folder on the way (~0.3 ms of API CPU per upload), and
        keys are relative, '/'-separated, with no empty, `.` or `..` segment."""
        segments = key.split("/")
        if "\\" in key or "\x00" in key or any(s in _UNSAFE_SEGMENTS for s in segments):
            raise ValueError(f"storage key escapes the root: {key!r}")
        return self.root.joinpath(*segments)

    def open_writer(self, key: str) -> LocalObjectWriter:
        return LocalObjectWriter(self.local_path(key))

    def delete_sync(self, key: str) -> None:
        """Remove the file and the folders it leaves empty (up to, not including, the root)."""
        path = self.local_path(key)
        path.unlink(missing_ok=True)
        for folder in path.parents:
            if folder == self.root or not folder.is_relative_to(self.root):
                break
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                break

    def delete_prefix_sync(self, prefix: str) -> None:
        folder = self.local_path(prefix)
        if folder.is_dir():
            shutil.rmtree(folder)
        self.delete_sync(prefix)  # and the folders it leaves empty

    def read_sync(self, key: str, max_bytes: int) -> bytes:
        path = self.local_path(key)
        try:
            with path.open("rb") as f:
                data = f.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise ObjectMissing(f"{key} does not exist") from exc
        except OSError as exc:
            raise StorageError(str(exc)) from exc
        if len(data) > max_bytes:
            raise StorageError(f"{key} is larger than {max_bytes} bytes")
        return data

    def exists_sync(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def download_sync(self, key: str, dest: Path) -> None:
        source = self.local_path(key)
        if not source.exists():
            raise ObjectMissing(f"{key} does not exist")
        _link_or_copy(source, dest)

    def upload_sync(self, src: Path, key: str, content_type: str | None = None) -> None:
        final = self.local_path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
        try:
            _link_or_copy(src, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def download_url(self, key: str, filename: str, media_type: str) -> str | None:
        return None  # served by the API itself (FileResponse, with Range support)

    def check_writable_sync(self) -> None:
        probe = self.root / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
