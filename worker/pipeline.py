"""One claimed job: claim → download → probe → transcode → thumbnail → upload → complete, and
the classification of whatever went wrong into an Outcome. Job state is written only through
core.jobs.store; FFmpeg is reached only through worker.media."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import DBAPIError

from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import as_utc, utcnow
from core.settings import Settings
from core.storage import StorageError, output_keys
from worker.context import WorkerContext
from worker.media import commands
from worker.media.errors import InputRejected, JobCancelled, MediaError
from worker.media.probe import MediaInfo, accept, duration_of, probe
from worker.media.profiles import limits_from, profile_from
from worker.media.runner import ResourceLimits, run
from worker.metrics import phase
from worker.outcome import Outcome, fail_permanently, gave_up, retry_or_give_up
from worker.progress import ProgressReporter
from worker.tempdirs import job_temp_dir

log = logging.getLogger(__name__)
TRANSIENT_REASON = "A temporary storage or database failure interrupted processing"


def process_video(video_id: int, ctx: WorkerContext) -> Outcome:
    settings, jobs = ctx.settings, ctx.jobs
    claim = jobs.claim(video_id, str(uuid.uuid4()))
    if isinstance(claim, ClaimRefused):
        if claim.reason == "capped":  # its owner has MAX_ACTIVE_JOBS_PER_USER running
            wait = settings.capped_retry_seconds
            return Outcome("retry", "capped", "owner at the running-jobs cap", retry_in=wait)
        if claim.reason == "held" and claim.lease_until is not None:
            wait = (as_utc(claim.lease_until) - utcnow()).total_seconds()
            return Outcome(
                "retry", "lease_held", "lease held by another worker", retry_in=max(1.0, wait + 1)
            )
        return Outcome("skipped", claim.reason, claim.reason)
    if claim.attempt > settings.max_attempts:
        jobs.fail(claim, gave_up(claim.attempt - 1, claim.previous_error))
        return Outcome("failed", "gave_up", "too many attempts")
    try:
        factor = _transcode_and_publish(claim, ctx)
        return Outcome("processed", "ok", realtime_factor=factor)
    except JobCancelled:
        return Outcome("cancelled", "cancelled")
    except SoftTimeLimitExceeded:
        reason = f"Processing took longer than {settings.task_soft_time_limit} s"
        return fail_permanently(claim, jobs, reason, "time_limit")
    except InputRejected as exc:
        log.info("video %s rejected: %s (%s)", video_id, exc.reason, exc.detail)
        return fail_permanently(claim, jobs, exc.reason, "invalid_input")
    except MediaError as exc:
        log.warning("video %s: %s (%s)", video_id, exc.reason, exc.detail)
        if exc.permanent:
            return fail_permanently(claim, jobs, exc.reason, "invalid_input")
        return retry_or_give_up(claim, jobs, settings, exc.reason)
    except (StorageError, OSError, DBAPIError) as exc:
        # Users read `error`: a fixed sentence; the exception text goes to the log only.
        log.warning("video %s: %s: %s", video_id, type(exc).__name__, exc)
        return retry_or_give_up(claim, jobs, settings, TRANSIENT_REASON)


def _transcode_and_publish(claim: Claim, ctx: WorkerContext) -> float:
    """Returns FFmpeg's realtime factor (output seconds per wall second)."""
    settings, jobs, storage = ctx.settings, ctx.jobs, ctx.storage
    profile = profile_from(settings)
    limits = limits_from(settings)
    with job_temp_dir(claim.video_id, settings.temp_dir) as tmp:
        work = Path(tmp)
        source, output, thumb = work / "input", work / "processed.mp4", work / "thumbnail.jpg"
        with phase("download"):
            storage.download_sync(claim.original_key, source)
        with phase("probe"):
            info = accept(probe(settings.ffprobe_binary, source, limits=limits), settings)
        if not jobs.heartbeat(claim, 1):
            raise JobCancelled()
        started = time.monotonic()
        with phase("transcode"):
            duration = _transcode(claim, jobs, settings, info, source, output, limits)
        transcode_seconds = time.monotonic() - started
        if not jobs.heartbeat(claim, 99):
            raise JobCancelled()
        at = min(settings.thumbnail_at_seconds, info.duration / 2)
        with phase("thumbnail"):
            run(
                commands.thumbnail_args(
                    settings.ffmpeg_binary, source, thumb, profile, at, info.stream_index
                ),
                timeout=60,
                limits=limits,
            )
        if duration <= 0:  # FFmpeg reported no time (should not happen): ask the file
            duration = duration_of(probe(settings.ffprobe_binary, output, limits=limits))
        processed_key, thumbnail_key = output_keys(claim.video_id, claim.attempt)
        with phase("upload"):
            storage.upload_sync(output, processed_key, "video/mp4")
            storage.upload_sync(thumb, thumbnail_key, "image/jpeg")
        if not jobs.complete(claim, processed_key, thumbnail_key, duration):
            # Deleted (or taken over) while we worked: nothing of ours may stay published.
            storage.delete_sync(processed_key)
            storage.delete_sync(thumbnail_key)
            raise JobCancelled()
        return duration / max(transcode_seconds, 1e-6)


def _transcode(
    claim: Claim,
    jobs: JobStore,
    settings: Settings,
    info: MediaInfo,
    source: Path,
    output: Path,
    limits: ResourceLimits,
) -> float:
    """Runs the transcode; returns the output's duration as FFmpeg reported it."""
    profile = profile_from(settings)
    expected = min(info.duration, profile.max_seconds) + 2 * profile.bumper_seconds
    reporter = ProgressReporter(jobs, claim, expected, settings.progress_interval_seconds)
    run(
        commands.transcode_args(
            settings.ffmpeg_binary, source, output, profile, info.fps, info.stream_index
        ),
        timeout=max(10.0, settings.task_soft_time_limit - 5),
        stall_timeout=settings.ffmpeg_stall_seconds,
        on_progress=reporter,
        limits=limits,
    )
    return reporter.seconds_done
