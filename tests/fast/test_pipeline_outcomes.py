"""worker.pipeline's classification of how a job ends, with a fake job store (in memory), real
local storage, and real FFmpeg — or the crashing FFmpeg fixture. No server, no database."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import utcnow
from core.profiles import choose
from core.settings import Settings
from core.storage import StorageError
from core.storage.local import LocalStorage
from tests.media import make_clip
from worker.context import WorkerContext
from worker.pipeline import process_video

CRASHING_FFMPEG = Path(__file__).resolve().parents[1] / "fixtures" / "crashing_ffmpeg.sh"


@dataclass
class FakeJobStore:
    """The JobStore's interface over a dict: what the pipeline wrote, and answers we choose."""

    attempt: int = 1
    failures: int = 0
    interruptions: int = 0
    worker_losses: int = 0
    refuse: ClaimRefused | None = None
    claim_alive: bool = True
    profile: str | None = None  # the job's stored profile definition (None: the seed's reel)
    stored: int = 0  # what the owner keeps in storage
    writes: list[tuple[str, Any]] = field(default_factory=list)

    def claim(self, video_id: int, token: str) -> Claim | ClaimRefused:
        if self.refuse is not None:
            return self.refuse
        return Claim(video_id, token, self.attempt, "originals/v/original", "earlier reason",
                     self.failures, self.interruptions, None, self.worker_losses)  # fmt: skip

    def heartbeat(self, claim: Claim, progress: int) -> bool:
        self.writes.append(("progress", progress))
        return self.claim_alive

    def profile_definition(self, claim: Claim) -> str | None:
        return self.profile

    def owner_stored_bytes(self, claim: Claim) -> int:
        return self.stored

    def complete(
        self, claim: Claim, processed: str, thumbnail: str, duration: float, outputs: str | None,
        output_bytes: int,
    ) -> bool:  # fmt: skip
        self.writes.append(("complete", (processed, thumbnail, duration)))
        self.writes.append(("outputs", outputs))
        self.writes.append(("output_bytes", output_bytes))
        return self.claim_alive

    def fail(self, claim: Claim, reason: str) -> bool:
        self.writes.append(("fail", reason))
        return True

    def release_for_retry(
        self, claim: Claim, reason: str, retry_at: datetime, interrupted: bool
    ) -> bool:
        self.writes.append(("retry", reason))
        self.writes.append(("retry_at", (retry_at, interrupted)))
        return True

    def last(self, kind: str) -> Any:
        return next(value for k, value in reversed(self.writes) if k == kind)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def _run(
    tmp_path: Path, storage: LocalStorage, jobs: FakeJobStore, source: bytes | Path, **kw: Any
) -> Any:
    path = storage.local_path("originals/v/original")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source.read_bytes() if isinstance(source, Path) else source)
    settings = Settings(temp_dir=tmp_path, progress_interval_seconds=0.1, max_attempts=3,
                        retry_schedule_seconds=(2, 30), retry_jitter=0, bumper_seconds=0.5,
                        **kw)  # fmt: skip
    ctx = WorkerContext(0, settings, jobs, storage)  # type: ignore[arg-type]
    return process_video(7, ctx)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    return make_clip(folder / "clip.mp4", seconds=1, width=320, height=240, audio=False)


def test_processed_publishes_outputs_under_the_attempt(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    jobs = FakeJobStore(attempt=2)
    outcome = _run(tmp_path, storage, jobs, clip)
    assert outcome.kind == "processed" and outcome.realtime_factor and outcome.realtime_factor > 0
    processed, thumbnail, duration = jobs.last("complete")
    assert processed == "outputs/7/attempt-2/processed.mp4" and storage.exists_sync(processed)
    assert thumbnail.endswith("thumbnail.jpg") and storage.exists_sync(thumbnail)
    assert duration == pytest.approx(2.0, abs=0.2)  # 0.5 + 1 + 0.5
    assert list(tmp_path.glob("reelforge-job-*")) == []


def test_input_rejected_fails_at_once_with_the_reason(
    tmp_path: Path, storage: LocalStorage
) -> None:
    jobs = FakeJobStore()
    outcome = _run(tmp_path, storage, jobs, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    assert (outcome.kind, outcome.reason_class) == ("failed", "invalid_input")
    assert (
        jobs.last("fail") == "The file is not a readable video (unsupported or corrupt container)"
    )


def test_a_crashing_ffmpeg_is_retried_with_backoff_then_given_up(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    poisoned = clip.read_bytes() + b"POISON-PILL"
    first = FakeJobStore(attempt=1)
    before = utcnow()
    outcome = _run(tmp_path, storage, first, poisoned, ffmpeg_binary=str(CRASHING_FFMPEG))
    assert (outcome.kind, outcome.retry_in) == ("retry", 2)
    assert first.last("retry") == "FFmpeg crashed (signal 11)"
    retry_at, interrupted = first.last("retry_at")
    assert not interrupted, "a crash of FFmpeg on this input is the input's failure"
    assert timedelta(seconds=1.9) <= retry_at - before <= timedelta(seconds=3)
    second = FakeJobStore(attempt=5, failures=1, interruptions=3)  # interruptions: not counted
    outcome = _run(tmp_path, storage, second, poisoned, ffmpeg_binary=str(CRASHING_FFMPEG))
    assert (outcome.kind, outcome.retry_in) == ("retry", 30)
    last = FakeJobStore(attempt=3, failures=2)
    outcome = _run(tmp_path, storage, last, poisoned, ffmpeg_binary=str(CRASHING_FFMPEG))
    assert outcome.kind == "failed"
    assert last.last("fail") == "Gave up after 3 attempts: FFmpeg crashed (signal 11)"


def test_a_lost_claim_cancels_and_leaves_no_outputs(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    jobs = FakeJobStore(claim_alive=False)
    outcome = _run(tmp_path, storage, jobs, clip)
    assert outcome.kind == "cancelled"
    assert not any(k == "complete" for k, _ in jobs.writes)
    assert not (storage.local_path("outputs/7")).exists()


def test_claim_refusals_and_too_many_attempts(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    missing = _run(tmp_path, storage, FakeJobStore(refuse=ClaimRefused("missing")), clip)
    assert (missing.kind, missing.reason_class) == ("skipped", "missing")
    held_until = utcnow() + timedelta(seconds=10)
    held = _run(tmp_path, storage, FakeJobStore(refuse=ClaimRefused("held", held_until)), clip)
    assert held.kind == "retry" and 9 <= (held.retry_in or 0) <= 12
    waiting_until = utcnow() + timedelta(seconds=20)
    waiting = _run(tmp_path, storage, FakeJobStore(refuse=ClaimRefused("waiting", None,
                                                                        waiting_until)), clip)  # fmt: skip
    assert waiting.kind == "retry" and 19 <= (waiting.retry_in or 0) <= 21
    worn = FakeJobStore(attempt=9, worker_losses=5)
    assert _run(tmp_path, storage, worn, clip).kind == "failed"
    assert worn.last("fail").startswith("Gave up: the worker processing this video stopped 5 times")


def test_a_missing_original_fails_at_once_and_says_so(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    jobs = FakeJobStore()
    settings = Settings(temp_dir=tmp_path)
    outcome = process_video(7, WorkerContext(0, settings, jobs, storage))  # type: ignore[arg-type]
    assert (outcome.kind, outcome.reason_class) == ("failed", "missing_original")
    assert jobs.last("fail") == "The original upload is missing"


def test_a_storage_outage_is_an_interruption_retried_at_the_jobs_own_time(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    class Unreachable(LocalStorage):
        def download_sync(self, key: str, dest: Path) -> None:
            raise StorageError("S3 download failed: connection refused")

    jobs = FakeJobStore(attempt=7, failures=2, interruptions=1)
    outcome = _run(tmp_path, Unreachable(tmp_path / "storage"), jobs, clip)
    assert (outcome.kind, outcome.reason_class, outcome.retry_in) == ("retry", "interrupted", 30)
    assert outcome.video_id == 7
    assert jobs.last("retry_at")[1] is True, "charged to the service, not to the input"


def test_the_fake_keeps_the_real_store_signatures() -> None:
    """If JobStore's methods change, the fake (and these tests) must change with them."""
    for name in ("claim", "heartbeat", "profile_definition", "owner_stored_bytes", "complete",
                 "fail", "release_for_retry"):  # fmt: skip
        real = list(inspect.signature(getattr(JobStore, name)).parameters)
        fake = list(inspect.signature(getattr(FakeJobStore, name)).parameters)
        assert len(real) == len(fake), name


def test_a_file_with_a_huge_cover_picture_is_processed_from_its_real_video(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    """An MP4 carrying an 8000×8000 cover picture beside the real 320×240 video: only the stream
    the probe accepted is decoded, in the transcode and the thumbnail."""
    import subprocess

    picture, two = tmp_path / "big.png", tmp_path / "two-streams.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=8000x8000",
                    "-frames:v", "1", str(picture)], check=True, timeout=60)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(picture), "-i", str(clip), "-map", "0",
                    "-map", "1:v", "-c", "copy", "-disposition:0", "attached_pic", str(two)],
                   check=True, timeout=60)  # fmt: skip
    jobs = FakeJobStore()
    outcome = _run(tmp_path, storage, jobs, two)
    assert outcome.kind == "processed", jobs.writes
    processed, thumbnail, _ = jobs.last("complete")
    from tests.media import ffprobe, video_stream

    stream = video_stream(ffprobe(storage.local_path(processed)))
    assert (stream["width"], stream["height"]) == (1280, 720)
    assert storage.local_path(thumbnail).stat().st_size < 2_000_000  # a frame, not the picture


def test_outputs_that_would_pass_the_owners_quota_fail_the_job_saying_so(
    tmp_path: Path, storage: LocalStorage, clip: Path
) -> None:
    hls = choose("hls").definition
    quota = 10 * 1024 * 1024
    jobs = FakeJobStore(profile=hls, stored=quota - 1000)
    outcome = _run(tmp_path, storage, jobs, clip, max_stored_bytes_per_user=quota)
    assert outcome.kind == "failed"
    reason = jobs.last("fail")
    assert reason.startswith("This video's outputs would take about ")
    assert "your storage quota has 1.0 KB left of 10.5 MB" in reason
    assert not any(k == "complete" for k, _ in jobs.writes)

    room = FakeJobStore(profile=hls, stored=0)  # the same job with room: an HLS tree and its size
    assert _run(tmp_path, storage, room, clip, max_stored_bytes_per_user=quota).kind == "processed"
    processed, _, _ = room.last("complete")
    assert processed == "outputs/7/attempt-1/hls/master.m3u8"
    manifest = json.loads(room.last("outputs"))
    assert [(o["kind"], o["name"]) for o in manifest] == [
        ("hls", "master"),
        ("hls", "360p"),
        ("thumbnail", "thumbnail"),
        ("storyboard", "storyboard"),
        ("preview", "preview"),
    ]
    assert room.last("output_bytes") == sum(
        p.stat().st_size
        for p in storage.local_path("outputs/7/attempt-1").rglob("*")
        if p.is_file()
    )
