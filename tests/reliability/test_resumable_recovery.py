"""A PATCH whose bytes reached storage but whose row was never updated (the database restarted in
between, or S3 answered after the client gave up) must leave the recorded state usable: the retry
starts from the row's offset and the finished original is byte for byte the file. Before, the old
tail was deleted before the row moved on, and every later PATCH answered 503 for good (the chaos
soak's upload that was never acknowledged). Real S3-compatible server (moto) and local disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import boto3
import pytest

from core.settings import Settings
from core.storage import ObjectMissing, make_storage
from core.storage.resumable import Progress, ResumableStore, resumable_store
from devstack.servers import S3Server

MIB = 1024 * 1024
PART = 5 * MIB
DATA = os.urandom(2 * PART + 3 * MIB)  # two full parts and a tail's worth


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3")).start(bucket="reelforge")
    yield server
    server.stop()


def _settings(s3_server: S3Server | None, root: Path) -> Settings:
    if s3_server is None:
        return Settings(storage_dir=root)
    return Settings(
        storage_backend="s3", s3_endpoint_url=s3_server.url, s3_bucket=s3_server.bucket,
        s3_access_key_id="reelforge", s3_secret_access_key="reelforge-secret", s3_part_bytes=PART,
    )  # fmt: skip


@pytest.fixture(params=["s3", "local"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ResumableStore, Settings]:
    server = request.getfixturevalue("s3_server") if request.param == "s3" else None
    settings = _settings(server, tmp_path)
    return resumable_store(make_storage(settings), PART), settings


def _patch(store: ResumableStore, upload_id: str, key: str, offset: int, row: Progress,
           data: bytes, final: bool) -> Progress:  # fmt: skip
    """One PATCH's storage side, from what the row recorded (a fresh copy, as a new request)."""

    async def run() -> Progress:
        copy = Progress(row.backend_upload_id, [list(p) for p in row.parts], row.tail_key,
                        row.tail_bytes)  # fmt: skip
        appender = await store.open(upload_id, key, offset, copy)
        for start in range(0, len(data), 256 * 1024):
            await appender.write(data[start : start + 256 * 1024])
        return await appender.close(final)

    return anyio.run(run)


def _original(settings: Settings, key: str, tmp_path: Path) -> bytes:
    dest = tmp_path / "downloaded"
    make_storage(settings).download_sync(key, dest)
    return dest.read_bytes()


def test_a_patch_never_recorded_is_sent_again_from_the_row(
    backend: tuple[ResumableStore, Settings], tmp_path: Path
) -> None:
    store, settings = backend
    key, cut = "originals/lost-record/original", PART + 1 * MIB
    row = _patch(store, "lost-record", key, 0, Progress(), DATA[:cut], final=False)
    anyio.run(store.drop_superseded, row)  # recorded
    # The next PATCH writes a part and a new tail, then its record is lost: the row stays.
    _patch(store, "lost-record", key, cut, row, DATA[cut : cut + PART], final=False)
    # The client resends from the row's offset, now to the end, and this time it is recorded.
    done = _patch(store, "lost-record", key, cut, row, DATA[cut:], final=True)
    anyio.run(store.drop_superseded, done)
    assert _original(settings, key, tmp_path) == DATA


def test_a_final_patch_whose_record_was_lost_finds_the_finished_object(
    backend: tuple[ResumableStore, Settings], tmp_path: Path
) -> None:
    store, settings = backend
    key, cut = "originals/lost-final/original", PART + 2 * MIB
    row = _patch(store, "lost-final", key, 0, Progress(), DATA[:cut], final=False)
    _patch(store, "lost-final", key, cut, row, DATA[cut:], final=True)  # completed, not recorded
    done = _patch(store, "lost-final", key, cut, row, DATA[cut:], final=True)
    assert done.backend_upload_id is None
    assert _original(settings, key, tmp_path) == DATA


def test_bytes_gone_for_good_say_so_instead_of_a_storage_outage(
    s3_server: S3Server, tmp_path: Path
) -> None:
    settings = _settings(s3_server, tmp_path)
    store = resumable_store(make_storage(settings), PART)
    key = "originals/gone/original"
    row = _patch(store, "gone", key, 0, Progress(), DATA[: 2 * MIB], final=False)
    assert row.tail_key is not None
    client = boto3.client("s3", endpoint_url=s3_server.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")  # fmt: skip
    client.delete_object(Bucket=s3_server.bucket, Key=row.tail_key)
    with pytest.raises(ObjectMissing):
        _patch(store, "gone", key, 2 * MIB, row, DATA[2 * MIB :], final=True)

    big = _patch(store, "aborted", key, 0, Progress(), DATA[: PART + MIB], final=False)
    assert big.backend_upload_id is not None
    client.abort_multipart_upload(Bucket=s3_server.bucket, Key=key, UploadId=big.backend_upload_id)
    with pytest.raises(ObjectMissing):
        _patch(store, "aborted", key, PART + MIB, big, DATA[PART + MIB :], final=True)
