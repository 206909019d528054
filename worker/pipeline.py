"""probe → plan → transcode → thumbnail → publish, for one claimed job."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import DBAPIError

from app.models import as_utc, utcnow
from app.settings import Settings
from app.storage import StorageError, output_keys
from worker import ffmpeg
from worker.context import WorkerContext
from worker.ffmpeg import Cancelled, FFmpegError, OutputProfile, ResourceLimits
from worker.jobs import Claim, ClaimRefused, JobStore
from worker.probe import MediaInfo, accept

log = logging.getLogger(__name__)
TEMP_PREFIX = "reelforge-job-"


def remove_orphaned_temp_dirs(temp_dir: Path | None) -> int:
    """Per-job folders are named after the worker process that made them; remove those whose
    process is gone (a child killed mid-job never ran its clean-up)."""
    root = Path(temp_dir or tempfile.gettempdir())
    removed = 0
    for path in root.glob(f"{TEMP_PREFIX}*"):
        pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Outcome:
    kind: str  # processed | failed | cancelled | skipped | retry
    reason_class: str  # a bounded label for metrics
    detail: str = ""
    retry_in: float | None = None
    realtime_factor: float | None = None


def profile_from(settings: Settings) -> OutputProfile:
    return OutputProfile(
        width=settings.output_width,
        height=settings.output_height,
        fps=settings.output_max_fps,
        max_seconds=settings.output_max_seconds,
        preset=settings.output_preset,
        crf=settings.output_crf,
        threads=settings.resolved_ffmpeg_threads,
        bumper_seconds=settings.bumper_seconds,
        bumper_text=settings.bumper_text,
        bumper_color=settings.bumper_color,
        bumper_logo=settings.bumper_logo_path,
        bumper_clip=settings.bumper_clip_path,
    )


def limits_from(settings: Settings) -> ResourceLimits:
    threads = settings.resolved_ffmpeg_threads
    return ResourceLimits(
        memory_bytes=settings.ffmpeg_max_memory_bytes,
        # CPU seconds add up over threads; wall time is bounded separately by the runner.
        cpu_seconds=int(settings.task_soft_time_limit * max(1, threads)) + 10,
        open_files=settings.ffmpeg_max_open_files,
    )


class ProgressReporter:
    """Turns FFmpeg's output time into 0-99 %, writes it at most once per interval (which also
    renews the lease), and raises Cancelled as soon as the claim is gone."""

    def __init__(self, jobs: JobStore, claim: Claim, expected_seconds: float, interval: float):
        self.jobs, self.claim = jobs, claim
        self.expected = max(expected_seconds, 0.1)
        self.interval = interval
        self.last_write = 0.0

    def __call__(self, seconds_done: float) -> None:
        now = time.monotonic()
        if now - self.last_write < self.interval:
            return
        self.last_write = now
        percent = min(99, max(1, int(seconds_done / self.expected * 100)))
        if not self.jobs.heartbeat(self.claim, percent):
            raise Cancelled()


def _gave_up(attempts: int, reason: str | None) -> str:
    return f"Gave up after {attempts} attempts: {reason or 'the worker stopped while processing'}"


def process_video(video_id: int, ctx: WorkerContext) -> Outcome:
    settings, jobs = ctx.settings, ctx.jobs
    claim = jobs.claim(video_id, str(uuid.uuid4()))
    if isinstance(claim, ClaimRefused):
        if claim.reason == "held" and claim.lease_until is not None:
            wait = (as_utc(claim.lease_until) - utcnow()).total_seconds()
            return Outcome(
                "retry", "lease_held", "lease held by another worker", retry_in=max(1.0, wait + 1)
            )
        return Outcome("skipped", claim.reason, claim.reason)
    if claim.attempt > settings.max_attempts:
        jobs.fail(claim, _gave_up(claim.attempt - 1, claim.previous_error))
        return Outcome("failed", "gave_up", "too many attempts")
    try:
        factor = _transcode_and_publish(claim, ctx)
        return Outcome("processed", "ok", realtime_factor=factor)
    except Cancelled:
        return Outcome("cancelled", "cancelled")
    except SoftTimeLimitExceeded:
        jobs.fail(claim, f"Processing took longer than {settings.task_soft_time_limit} s")
        return Outcome("failed", "time_limit", "time limit")
    except FFmpegError as exc:
        if exc.permanent:
            jobs.fail(claim, exc.reason)
            return Outcome("failed", "invalid_input", exc.reason)
        return _transient(claim, jobs, settings, exc.reason)
    except (StorageError, OSError, DBAPIError) as exc:
        return _transient(claim, jobs, settings, f"{type(exc).__name__}: {exc}"[:300])


def _transient(claim: Claim, jobs: JobStore, settings: Settings, reason: str) -> Outcome:
    log.warning("video %s attempt %s: transient failure: %s", claim.video_id, claim.attempt, reason)
    if claim.attempt >= settings.max_attempts:
        jobs.fail(claim, _gave_up(claim.attempt, reason))
        return Outcome("failed", "gave_up", reason)
    jobs.release_for_retry(claim, reason)
    backoff = settings.retry_backoff_seconds * 2 ** (claim.attempt - 1)
    return Outcome("retry", "transient", reason, retry_in=backoff)


def _transcode_and_publish(claim: Claim, ctx: WorkerContext) -> float:
    """Returns FFmpeg's realtime factor (output seconds per wall second)."""
    settings, jobs, storage = ctx.settings, ctx.jobs, ctx.storage
    profile = profile_from(settings)
    with tempfile.TemporaryDirectory(
        prefix=f"{TEMP_PREFIX}{os.getpid()}-{claim.video_id}-", dir=settings.temp_dir
    ) as tmp:
        work = Path(tmp)
        source, output, thumb = work / "input", work / "processed.mp4", work / "thumbnail.jpg"
        storage.download_sync(claim.original_key, source)
        limits = limits_from(settings)
        info = accept(ffmpeg.probe(settings.ffprobe_binary, source, limits=limits), settings)
        if not jobs.heartbeat(claim, 1):
            raise Cancelled()
        started = time.monotonic()
        _transcode(claim, jobs, settings, profile, info, source, output, limits)
        transcode_seconds = time.monotonic() - started
        if not jobs.heartbeat(claim, 99):
            raise Cancelled()
        at = min(settings.thumbnail_at_seconds, info.duration / 2)
        ffmpeg.run(
            ffmpeg.thumbnail_args(settings.ffmpeg_binary, source, thumb, profile, at),
            timeout=60,
            limits=limits,
        )
        duration = ffmpeg.duration_of(ffmpeg.probe(settings.ffprobe_binary, output, limits=limits))
        processed_key, thumbnail_key = output_keys(claim.video_id, claim.attempt)
        storage.upload_sync(output, processed_key, "video/mp4")
        storage.upload_sync(thumb, thumbnail_key, "image/jpeg")
        if not jobs.complete(claim, processed_key, thumbnail_key, duration):
            # Deleted (or taken over) while we worked: nothing of ours may stay published.
            storage.delete_sync(processed_key)
            storage.delete_sync(thumbnail_key)
            raise Cancelled()
        return duration / max(transcode_seconds, 1e-6)


def _transcode(
    claim: Claim,
    jobs: JobStore,
    settings: Settings,
    profile: OutputProfile,
    info: MediaInfo,
    source: Path,
    output: Path,
    limits: ResourceLimits,
) -> None:
    expected = min(info.duration, profile.max_seconds) + 2 * profile.bumper_seconds
    reporter = ProgressReporter(jobs, claim, expected, settings.progress_interval_seconds)
    ffmpeg.run(
        ffmpeg.transcode_args(settings.ffmpeg_binary, source, output, profile, info.fps),
        timeout=max(10.0, settings.task_soft_time_limit - 5),
        stall_timeout=settings.ffmpeg_stall_seconds,
        on_progress=reporter,
        limits=limits,
    )
