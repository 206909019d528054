"""Streaming multipart receiver: the file goes to storage chunk by chunk, limits enforced as
bytes arrive (also for chunked bodies with no Content-Length), the container sniffed from its
first bytes. Nothing is ever held whole in memory, and a rejected upload leaves no file behind.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from app.errors import BadRequest, PayloadTooLarge, UnsupportedMedia
from app.videos.pacing import receive_paced
from app.videos.sniff import SNIFF_BYTES, human_bytes, sniff_container
from core.profiles import SEED_CHOICE, ChosenProfile, choose
from core.settings import Settings
from core.storage import ObjectWriter, Storage, original_key

FILE_FIELD = "video_file"
TITLE_FIELD = "title"
PROFILE_FIELD = "profile"  # an output profile's name (core/profiles.py); absent: the default
MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 8
MAX_PART_HEADER_BYTES = 16 * 1024  # room for very long client filenames (never used as paths)
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_BOUNDARY_BYTES = 70  # RFC 2046


@dataclass
class ReceivedUpload:
    title: str
    key: str
    size: int
    content_type: str
    sha256: str | None = None  # of the file's bytes, when asked for (Idempotency-Key)
    profile: ChosenProfile = SEED_CHOICE


@dataclass
class _Part:
    name: str | None = None
    is_file: bool = False
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)


class _Events:
    """Collects the push parser's callbacks so they can be handled with `await` afterwards.
    Part data is a view into the chunk just written to the parser, not a copy: it is handled
    (copied into the writer's buffer) before the next chunk arrives — one copy per byte fewer,
    ~1.8 ms of API CPU per 18 MB upload."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes | memoryview]] = []
        self._field = bytearray()
        self._value = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": lambda: self.items.append(("begin", b"")),
            "on_header_field": lambda d, s, e: self._field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.items.append(("headers_done", b"")),
            "on_part_data": lambda d, s, e: self.items.append(("data", memoryview(d)[s:e])),
            "on_part_end": lambda: self.items.append(("end", b"")),
            "on_end": lambda: self.items.append(("closed", b"")),
        }

    def _header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            self.items.append(("disposition", bytes(self._value)))
        self._field.clear()
        self._value.clear()


class UploadReceiver:
    def __init__(self, storage: Storage, settings: Settings, digest: bool = False) -> None:
        self.storage = storage
        self.digest = hashlib.sha256() if digest else None
        self.limit = settings.max_upload_bytes
        self.max_title = settings.max_title_chars
        self.key = original_key(uuid.uuid4().hex)
        self.writer: ObjectWriter | None = None
        self.committed = False
        self.file_seen = False
        self.content_type: str | None = None
        self.head = bytearray()
        self.fields: dict[str, bytearray] = {}  # the text fields: title, profile
        self.parts = 0
        self.closed = False
        self._part = _Part()
        self.settings = settings

    async def receive(self, request: Request) -> ReceivedUpload:
        boundary = self._boundary(request)
        self._check_declared_length(request)
        events = _Events()
        parser = MultipartParser(
            boundary,
            events.callbacks(),  # type: ignore[arg-type]
            max_header_size=MAX_PART_HEADER_BYTES,
        )
        body_limit = self.limit + MULTIPART_OVERHEAD_BYTES
        received = 0

        async def on_chunk(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)
            if received > body_limit:  # every part counts, not only the file
                raise self._too_large()
            parser.write(chunk)
            await self._handle(events.items)
            events.items.clear()

        try:
            await receive_paced(request.stream(), self.settings, on_chunk)
            parser.finalize()
            await self._handle(events.items)
            if not self.closed:
                raise BadRequest("Malformed multipart body: the closing boundary is missing")
            return await self._finish()
        except MultipartParseError as exc:
            raise BadRequest(f"Malformed multipart body: {exc}") from None
        finally:
            if self.writer is not None and not self.committed:  # rejected or interrupted
                await self.writer.abort()

    @staticmethod
    def _boundary(request: Request) -> bytes:
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            raise BadRequest("Expected a multipart/form-data body with a video_file field")
        boundary: bytes = params[b"boundary"]
        if not 1 <= len(boundary) <= MAX_BOUNDARY_BYTES:
            raise BadRequest(f"Malformed multipart boundary (1-{MAX_BOUNDARY_BYTES} characters)")
        return boundary

    def _check_declared_length(self, request: Request) -> None:
        declared = request.headers.get("content-length")
        if (
            declared
            and declared.isdigit()
            and int(declared) > self.limit + MULTIPART_OVERHEAD_BYTES
        ):
            raise self._too_large()

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"File too large. Maximum size is {human_bytes(self.limit)}")

    async def _handle(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        for kind, data in items:
            if kind == "begin":
                self.parts += 1
                if self.parts > MAX_PARTS:
                    raise BadRequest("Too many form fields")
                self._part = _Part()
            elif kind == "disposition":
                _, params = parse_options_header(bytes(data))
                self._part.name = params.get(b"name", b"").decode("utf-8", "replace")
                self._part.is_file = b"filename" in params
            elif kind == "headers_done":
                await self._start_part()
            elif kind == "data":
                await self._part_data(data)
            elif kind == "end":
                await self._end_part()
            elif kind == "closed":
                self.closed = True

    async def _start_part(self) -> None:
        if self._part.name == FILE_FIELD:
            if self.file_seen:
                raise BadRequest("Only one video_file may be uploaded per request")
            self.file_seen = True
            self.writer = self.storage.open_writer(self.key)
        elif self._part.name in (TITLE_FIELD, PROFILE_FIELD):
            self.fields[self._part.name] = bytearray()

    async def _part_data(self, data: bytes | memoryview) -> None:
        name = self._part.name
        if name == FILE_FIELD and self.writer is not None:
            if self.writer.bytes_written + len(self.head) + len(data) > self.limit:
                raise self._too_large()
            if self.content_type is None:
                # Keep the first bytes back until the container is judged: a rejected body
                # never reaches storage at all.
                self.head.extend(data)
                if len(self.head) < 12:
                    return
                self._sniff()
                data, self.head = memoryview(self.head), bytearray()
            if self.digest is not None:
                self.digest.update(data)
            await self.writer.write(data)
        elif name is not None and name in self.fields:
            self.fields[name].extend(data)
            if len(self.fields[name]) > MAX_FIELD_BYTES:
                raise self._field_error(name)

    def _sniff(self) -> None:
        self.content_type = sniff_container(bytes(self.head[:SNIFF_BYTES]))
        if self.content_type is None:
            raise UnsupportedMedia(
                "Unsupported file type: upload an MP4, MOV, MKV, WebM or AVI video"
            )

    async def _end_part(self) -> None:
        if self._part.name == FILE_FIELD and self.content_type is None and self.head:
            self._sniff()
            assert self.writer is not None
            if self.digest is not None:
                self.digest.update(self.head)
            await self.writer.write(bytes(self.head))
            self.head = bytearray()

    async def _finish(self) -> ReceivedUpload:
        if not self.file_seen or self.writer is None:
            raise BadRequest("video_file is required")
        if self.writer.bytes_written == 0:
            raise BadRequest("The uploaded file is empty")
        title = self._title()
        profile = choose(self._text(PROFILE_FIELD), self.settings.profiles_file)
        await self.writer.commit()
        self.committed = True
        assert self.content_type is not None
        digest = self.digest.hexdigest() if self.digest is not None else None
        size = self.writer.bytes_written
        return ReceivedUpload(title, self.key, size, self.content_type, digest, profile)

    def _text(self, name: str) -> str | None:
        raw = self.fields.get(name)
        return None if raw is None else raw.decode("utf-8", "replace")

    def _field_error(self, name: str) -> BadRequest:
        if name == TITLE_FIELD:
            return BadRequest(f"Title must be 1-{self.max_title} characters")
        return BadRequest("The profile field is too long")

    def _title(self) -> str:
        return clean_title(self._text(TITLE_FIELD), self.max_title, "Title is required")


def clean_title(raw: str | None, max_chars: int, missing: str) -> str:
    """Every upload path's title rule: stripped, 1..max_chars, no NUL; `missing` when absent."""
    title = (raw or "").strip()
    if not title:
        raise BadRequest(missing)
    if len(title) > max_chars or "\x00" in title:
        raise BadRequest(f"Title must be 1-{max_chars} characters")
    return title


async def receive_video_upload(
    request: Request, storage: Storage, settings: Settings, digest: bool = False
) -> ReceivedUpload:
    try:
        return await UploadReceiver(storage, settings, digest).receive(request)
    except ClientDisconnect:
        raise BadRequest("Upload interrupted by the client") from None
