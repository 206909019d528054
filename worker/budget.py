"""Room for what a job will make, checked once the source is probed and before FFmpeg starts: a
10-minute 4K ladder must not fill the worker's disk or the owner's storage quota unannounced.
The estimate is an upper bound from the encoders' bitrate caps (capped CRF: simple pictures take
less); the job's real bytes are counted in the quota once it is processed (`output_bytes`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.profiles import RENDITIONS
from core.settings import Settings
from worker.media.commands import OutputProfile
from worker.media.errors import InputRejected
from worker.media.ladder import plan_ladder
from worker.media.probe import MediaInfo

HEADROOM = 1.2  # containers, playlists, the thumbnail, rate-control overshoot
MP4_KBPS_BY_SHORT_SIDE = sorted((short, kbps) for short, kbps in RENDITIONS.values())


def _mp4_kbps(short_side: int) -> int:
    """The cap of the smallest rendition at least as tall as the picture (1080p for larger)."""
    return next(
        (kbps for short, kbps in MP4_KBPS_BY_SHORT_SIDE if short >= short_side),
        MP4_KBPS_BY_SHORT_SIDE[-1][1],
    )


def expected_bytes(profile: OutputProfile, info: MediaInfo) -> int:
    seconds = min(info.duration, profile.max_seconds) if profile.trim else info.duration
    if profile.bumpers:
        seconds += 2 * profile.bumper_seconds
    if profile.renditions:
        kbps = sum(r.kbps for r in plan_ladder(info.display, profile.renditions))
    else:
        short = profile.height if profile.fit else min(min(info.display), profile.max_height)
        kbps = _mp4_kbps(short)
    if profile.audio != "drop" and info.audio_index is not None:
        kbps += profile.audio_kbps
    return int(kbps * 1000 / 8 * seconds * HEADROOM)


def human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def check_room(settings: Settings, expected: int, work_dir: Path, owner_stored: int) -> None:
    """InputRejected (the job fails, saying why) when the outputs cannot fit the quota or any
    worker disk; OSError (retried later) when this worker's disk is only full for now."""
    quota = settings.max_stored_bytes_per_user
    if quota and owner_stored + expected > quota:
        raise InputRejected(
            f"This video's outputs would take about {human(expected)}; your storage quota has "
            f"{human(max(0, quota - owner_stored))} left of {human(quota)}. Delete videos or "
            "choose a smaller profile"
        )
    disk = shutil.disk_usage(work_dir)
    if expected > disk.total:
        raise InputRejected(
            f"This video's outputs would take about {human(expected)}, more than a worker's "
            f"disk holds ({human(disk.total)}); choose a smaller profile or a shorter video"
        )
    if expected > disk.free:
        raise OSError(f"worker disk has {human(disk.free)} free, the job needs {human(expected)}")
