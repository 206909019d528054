"""One claimed job: claim → download → probe → transcode → thumbnail → upload → complete, and
the classification of whatever went wrong into an Outcome. Job state is written only through
core.jobs.store; FFmpeg is reached only through worker.media."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import DBAPIError

from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import as_utc, utcnow
from core.profiles import stored_profile
from core.settings import Settings
from core.storage import ObjectMissing, Storage, StorageError
from worker.budget import check_room, expected_bytes
from worker.context import WorkerContext
from worker.media import commands
from worker.media.errors import InputRejected, JobCancelled, MediaError
from worker.media.ladder import ladder_args, plan_ladder
from worker.media.probe import MediaInfo, accept, duration_of, probe
from worker.media.profiles import limits_from, profile_from
from worker.media.runner import ResourceLimits, run
from worker.metrics import phase
from worker.outcome import (
    MISSING_ORIGINAL,
    Outcome,
    fail_permanently,
    input_failed,
    interrupted,
    lost_workers,
)
from worker.outputs import Made, hls_made, mp4_made
from worker.preview_steps import add_previews, make_previews
from worker.progress import ProgressReporter
from worker.tempdirs import job_temp_dir

log = logging.getLogger(__name__)
TRANSIENT_REASON = "A temporary storage or database failure interrupted processing"
SETTLE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)  # 15.5 s, well inside a lease


def process_video(video_id: int, ctx: WorkerContext) -> Outcome:
    """Run the message for `video_id`: claim a job (the fairest; not always this one), run it,
    and settle how it ended. Logs name the claimed job."""
    settings, jobs = ctx.settings, ctx.jobs
    try:
        claim = jobs.claim(video_id, str(uuid.uuid4()))
    except DBAPIError as exc:  # the database is down: this message tries again, not lost
        log.warning("message for video %s: no claim, database unavailable: %s", video_id, exc)
        wait = settings.capped_retry_seconds
        return Outcome("retry", "unavailable", "database unavailable", retry_in=wait)
    if isinstance(claim, ClaimRefused):
        return _refused(claim, settings)
    if claim.worker_losses >= settings.max_worker_losses:
        reason = lost_workers(claim.worker_losses)
        return _settle(lambda: fail_permanently(claim, jobs, reason, "worker_lost"))
    return _settle(_run(claim, ctx))


def _refused(claim: ClaimRefused, settings: Settings) -> Outcome:
    if claim.reason == "capped":  # its owner has MAX_ACTIVE_JOBS_PER_USER running
        wait = settings.capped_retry_seconds
        return Outcome("retry", "capped", "owner at the running-jobs cap", retry_in=wait)
    if claim.reason == "held" and claim.lease_until is not None:
        wait = (as_utc(claim.lease_until) - utcnow()).total_seconds()
        return Outcome("retry", "lease_held", "lease held by another worker",
                       retry_in=max(1.0, wait + 1))  # fmt: skip
    if claim.reason == "waiting" and claim.retry_at is not None:  # come back when it is due
        wait = (as_utc(claim.retry_at) - utcnow()).total_seconds()
        return Outcome("retry", "waiting", "retry not due yet", retry_in=max(0.1, wait))
    return Outcome("skipped", claim.reason, claim.reason)


def _settle(record: Callable[[], Outcome]) -> Outcome:
    """Recording how a job ended needs the database: if it is down for seconds, wait for it
    (the job keeps its lease meanwhile) rather than leave the job to look abandoned."""
    for wait in SETTLE_WAITS:
        try:
            return record()
        except DBAPIError as exc:
            log.warning("database unavailable while recording a job's end (%s); again in %s s",
                        type(exc).__name__, wait)  # fmt: skip
            time.sleep(wait)
    return record()


def _run(claim: Claim, ctx: WorkerContext) -> Callable[[], Outcome]:
    """Run the job; returns how to record its end (for `_settle`, which may have to repeat it —
    never the job itself)."""
    settings, jobs, video_id = ctx.settings, ctx.jobs, claim.video_id
    try:
        factor = _transcode_and_publish(claim, ctx)
        return lambda: Outcome("processed", "ok", realtime_factor=factor, video_id=video_id)
    except JobCancelled:
        return lambda: Outcome("cancelled", "cancelled", video_id=video_id)
    except SoftTimeLimitExceeded:
        reason = f"Processing took longer than {settings.task_soft_time_limit} s"
        return lambda: fail_permanently(claim, jobs, reason, "time_limit")
    except InputRejected as exc:
        log.info("video %s rejected: %s (%s)", video_id, exc.reason, exc.detail)
        rejected = exc.reason
        return lambda: fail_permanently(claim, jobs, rejected, "invalid_input")
    except MediaError as exc:
        log.warning("video %s: %s (%s)", video_id, exc.reason, exc.detail)
        failed, permanent = exc.reason, exc.permanent
        if permanent:
            return lambda: fail_permanently(claim, jobs, failed, "invalid_input")
        return lambda: input_failed(claim, jobs, settings, failed)
    except ObjectMissing as exc:
        log.warning("video %s: %s", video_id, exc)
        return lambda: fail_permanently(claim, jobs, MISSING_ORIGINAL, "missing_original")
    except (StorageError, OSError, DBAPIError) as exc:
        # Users read `error`: a fixed sentence; the exception text goes to the log only.
        log.warning("video %s: %s: %s", video_id, type(exc).__name__, exc)
        return lambda: interrupted(claim, jobs, settings, TRANSIENT_REASON)


def _transcode_and_publish(claim: Claim, ctx: WorkerContext) -> float:
    """Returns FFmpeg's realtime factor (output seconds per wall second)."""
    settings, jobs, storage = ctx.settings, ctx.jobs, ctx.storage
    profile = profile_from(settings, stored_profile(jobs.profile_definition(claim)))
    limits = limits_from(settings)
    with job_temp_dir(claim.video_id, settings.temp_dir) as tmp:
        work = Path(tmp)
        source, thumb = work / "input", work / "thumbnail.jpg"
        output = work / ("hls" if profile.renditions else "processed.mp4")
        with phase("download"):
            storage.download_sync(claim.original_key, source)
        with phase("probe"):
            info = accept(probe(settings.ffprobe_binary, source, limits=limits), settings)
        if not jobs.heartbeat(claim, 1):
            raise JobCancelled()
        expected = expected_bytes(profile, info)
        check_room(settings, expected, work, jobs.owner_stored_bytes(claim))
        started = time.monotonic()
        with phase("transcode"):
            duration = _transcode(claim, jobs, settings, profile, info, (source, output), limits)
        transcode_seconds = time.monotonic() - started
        if not jobs.heartbeat(claim, 99):
            raise JobCancelled()
        wanted = profile.thumbnail_at
        at = min(settings.thumbnail_at_seconds if wanted is None else wanted, info.duration / 2)
        with phase("thumbnail"):
            run(
                commands.thumbnail_args(
                    settings.ffmpeg_binary,
                    source,
                    thumb,
                    profile,
                    at,
                    info.stream_index,
                    display=info.display,
                ),  # fmt: skip
                timeout=60,
                limits=limits,
            )
        if profile.renditions:
            plan = plan_ladder(info.display, profile.renditions)
            made = hls_made(claim.video_id, claim.attempt, output, thumb, plan)
            duration = duration if duration > 0 else info.duration
        else:
            facts = probe(settings.ffprobe_binary, output, limits=limits)
            duration = duration if duration > 0 else duration_of(facts)
            made = mp4_made(claim.video_id, claim.attempt, (output, thumb), facts)
        previews = make_previews(settings, profile, info, (source, work / "previews"), limits)
        add_previews(made, claim.video_id, claim.attempt, previews)
        _publish(claim, ctx, made, duration)
        return duration / max(transcode_seconds, 1e-6)


def _publish(claim: Claim, ctx: WorkerContext, made: Made, duration: float) -> None:
    """Upload every file, then complete the job. Whatever this attempt uploaded goes again if the
    upload fails half-way or the job was deleted (or taken over) meanwhile: nothing of ours may
    stay behind or be published."""
    storage = ctx.storage
    try:
        with phase("upload"):
            for path, key, content_type in made.files:
                storage.upload_sync(path, key, content_type)
    except (StorageError, OSError):
        _forget(storage, made)
        raise
    outputs = json.dumps(made.manifest)
    size = sum(path.stat().st_size for path, _, _ in made.files)
    if not ctx.jobs.complete(claim, made.main_key, made.thumbnail_key, duration, outputs, size):
        _forget(storage, made)
        raise JobCancelled()


def _forget(storage: Storage, made: Made) -> None:
    try:
        storage.delete_prefix_sync(made.prefix)
        storage.delete_sync(made.thumbnail_key)
    except (StorageError, OSError) as exc:  # left under the job's prefix, deleted with the job
        log.warning("outputs under %s left behind: %s", made.prefix, exc)


def _transcode(
    claim: Claim,
    jobs: JobStore,
    settings: Settings,
    profile: commands.OutputProfile,
    info: MediaInfo,
    files: tuple[Path, Path],
    limits: ResourceLimits,
) -> float:
    """Runs the transcode of `files` (source, output); returns the output's duration as FFmpeg
    reported it."""
    source, output = files
    expected = (min(info.duration, profile.max_seconds) if profile.trim else info.duration) + (
        2 * profile.bumper_seconds if profile.bumpers else 0
    )
    reporter = ProgressReporter(jobs, claim, expected, settings.progress_interval_seconds)
    if profile.renditions:  # one process: decode once, every rendition's encoder fed from it
        plan = plan_ladder(info.display, profile.renditions)
        args = ladder_args(settings.ffmpeg_binary, source, output, profile, plan, info.fps,
                           info.stream_index, info.audio_index)  # fmt: skip
    else:
        args = commands.transcode_args(
            settings.ffmpeg_binary, source, output, profile, info.fps, info.stream_index,
            audio_index=info.audio_index, display=info.display,
        )  # fmt: skip
    run(
        args,
        timeout=max(10.0, settings.task_soft_time_limit - 5),
        stall_timeout=settings.ffmpeg_stall_seconds,
        on_progress=reporter,
        limits=limits,
    )
    return reporter.seconds_done
