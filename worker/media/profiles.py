"""Settings → what FFmpeg is asked to make (OutputProfile) and what it may use (ResourceLimits).
The one place where the output knobs of core/settings.py meet the builders and the runner."""

from __future__ import annotations

from core.profiles import SEED_REEL, Profile
from core.settings import Settings
from worker.media.commands import OutputProfile
from worker.media.runner import ResourceLimits


def profile_from(settings: Settings, job: Profile = SEED_REEL) -> OutputProfile:
    """The job's profile (core/profiles.py) with the settings it leaves to the service: the
    reel's frame, trim and bumper, the encoder's preset, quality and threads."""
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
        trim=job.trim,
        fit=job.frame == "fit",
        max_height=job.max_height,
        bumpers=job.bumpers,
        audio=job.audio,
        loudness_lufs=job.loudness_lufs,
        audio_kbps=job.audio_kbps,
        thumbnail_at=job.thumbnail_at_seconds,
        renditions=job.renditions if job.output == "hls" else (),
        segment_seconds=job.segment_seconds,
        previews=job.previews,
    )


def limits_from(settings: Settings) -> ResourceLimits:
    threads = settings.resolved_ffmpeg_threads
    return ResourceLimits(
        memory_bytes=settings.ffmpeg_max_memory_bytes,
        # CPU seconds add up over threads; wall time is bounded separately by the runner.
        cpu_seconds=int(settings.task_soft_time_limit * max(1, threads)) + 10,
        open_files=settings.ffmpeg_max_open_files,
    )
