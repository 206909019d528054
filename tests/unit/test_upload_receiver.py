"""The streaming receiver against a real Starlette Request fed chunk by chunk, and real files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.requests import Request

from app.errors import BadRequest, PayloadTooLarge, UnsupportedMedia
from app.videos.sniff import sniff_container
from app.videos.upload import UploadReceiver
from core.settings import Settings
from core.storage.local import LocalStorage
from tests.api_client import multipart

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def _request(body: bytes, chunk: int = 7, content_length: bool = False) -> Request:
    headers = [(b"content-type", b"multipart/form-data; boundary=rfboundary")]
    if content_length:
        headers.append((b"content-length", str(len(body)).encode()))
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
        for i, p in enumerate(pieces)
    ]

    async def receive() -> dict:  # type: ignore[type-arg]
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


def _receive(tmp_path: Path, body: bytes, limit: int = 1000, **kw: object):  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path / "storage")
    receiver = UploadReceiver(storage, Settings(max_upload_bytes=limit))
    return storage, asyncio.run(receiver.receive(_request(body, **kw)))  # type: ignore[arg-type]


def _files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]


def test_streams_the_file_to_storage_byte_for_byte(tmp_path: Path) -> None:
    payload = MP4_HEAD + bytes(range(256)) * 3
    storage, got = _receive(
        tmp_path, multipart([("title", b" Hello ", None), ("video_file", payload, "a.mp4")])
    )
    assert got.title == "Hello" and got.size == len(payload) and got.content_type == "video/mp4"
    assert storage.local_path(got.key).read_bytes() == payload
    assert _files(tmp_path) == [storage.local_path(got.key)]


def test_title_after_the_file_is_fine(tmp_path: Path) -> None:
    _, got = _receive(
        tmp_path, multipart([("video_file", MP4_HEAD * 4, "a.mp4"), ("title", b"Late", None)])
    )
    assert got.title == "Late"


def test_limit_is_enforced_as_bytes_arrive_and_nothing_is_left(tmp_path: Path) -> None:
    body = multipart([("title", b"t", None), ("video_file", MP4_HEAD + b"\x00" * 1000, "a.mp4")])
    with pytest.raises(PayloadTooLarge, match="File too large"):
        _receive(tmp_path, body, limit=1000)
    assert _files(tmp_path) == []


def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    payload = MP4_HEAD + b"\x00" * (1000 - len(MP4_HEAD))
    _, got = _receive(
        tmp_path, multipart([("title", b"t", None), ("video_file", payload, "a.mp4")])
    )
    assert got.size == 1000


def test_declared_length_far_over_the_limit_is_refused_up_front(tmp_path: Path) -> None:
    body = multipart([("title", b"t", None), ("video_file", MP4_HEAD + b"\x00" * 200_000, "a.mp4")])
    with pytest.raises(PayloadTooLarge):
        _receive(tmp_path, body, limit=1000, content_length=True)


def test_unknown_bytes_are_415_before_anything_is_written(tmp_path: Path) -> None:
    body = multipart([("title", b"t", None), ("video_file", b"hello world, plain text", "a.mp4")])
    with pytest.raises(UnsupportedMedia):
        _receive(tmp_path, body)
    assert _files(tmp_path) == []


def test_tiny_file_shorter_than_a_signature_is_415(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        _receive(tmp_path, multipart([("title", b"t", None), ("video_file", b"abc", "a.mp4")]))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            multipart([("title", b"t", None), ("video_file", b"", "a.mp4")]),
            "The uploaded file is empty",
        ),
        (multipart([("video_file", MP4_HEAD, "a.mp4")]), "Title is required"),
        (multipart([("title", b"t", None)]), "video_file is required"),
        (
            multipart([("title", b"x" * 256, None), ("video_file", MP4_HEAD, "a.mp4")]),
            "Title must be 1-255 characters",
        ),
        (b"--rfboundary\r\nnot a header line", "Malformed multipart body"),
    ],
)
def test_bad_forms_are_400_and_leave_nothing(tmp_path: Path, body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        _receive(tmp_path, body)
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (MP4_HEAD, "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"#EXTM3U\n#EXTINF:1,\nx.ts", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", None),
    ],
)
def test_sniff_container(head: bytes, expected: str | None) -> None:
    assert sniff_container(head) == expected
