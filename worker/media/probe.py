"""What ffprobe says about a file, and whether we accept it as input: the acceptance rules
(containers, streams, size, duration, frames) live here and nowhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from core.settings import Settings
from worker.media.commands import probe_args
from worker.media.errors import FFmpegFailed, InputRejected
from worker.media.runner import ResourceLimits, run

# ffprobe's names for the demuxers in commands.INPUT_FORMATS.
ACCEPTED_FORMAT_NAMES = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi")


@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration: float
    width: int
    height: int
    fps: float
    stream_index: int = 0  # the stream the limits were checked on: the only one decoded
    audio_index: int | None = None  # the first audio stream (None: the source has no sound)
    rotated: bool = False  # shown turned a quarter (phones): FFmpeg rotates it as it decodes

    @property
    def display(self) -> tuple[int, int]:
        """The picture's size as shown (and as FFmpeg's filters see it)."""
        return (self.height, self.width) if self.rotated else (self.width, self.height)


def _rate(value: str | None) -> float:
    try:
        return float(Fraction(value)) if value and value != "0/0" else 0.0
    except (ValueError, ZeroDivisionError):
        return 0.0


def probe(
    ffprobe: str, path: Path, timeout: float = 30.0, limits: ResourceLimits | None = None
) -> dict[str, Any]:
    """ffprobe's JSON for a file; an unreadable file is InputRejected (the input is at fault)."""
    try:
        result = run(probe_args(ffprobe, path), timeout=timeout, limits=limits)
    except FFmpegFailed as exc:
        raise InputRejected(
            "The file is not a readable video (unsupported or corrupt container)", exc.detail
        ) from exc
    try:
        data: dict[str, Any] = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise InputRejected("ffprobe returned unreadable output") from exc
    return data


def duration_of(probe_data: dict[str, Any], stream: dict[str, Any] | None = None) -> float:
    """The container's duration, else the stream's; 0.0 when neither is a positive number."""
    fmt = probe_data.get("format")
    for raw in (
        fmt.get("duration") if isinstance(fmt, dict) else None,
        (stream or {}).get("duration"),
    ):
        try:
            if raw is not None and float(raw) > 0:
                return float(raw)
        except (TypeError, ValueError):
            continue
    return 0.0


_reject = InputRejected


def accept(probe_data: dict[str, Any], settings: Settings) -> MediaInfo:
    """Raise InputRejected with a human reason for anything we will not process."""
    fmt: dict[str, Any] = probe_data.get("format") or {}
    streams: list[dict[str, Any]] = probe_data.get("streams") or []
    format_name = str(fmt.get("format_name", ""))
    if format_name not in ACCEPTED_FORMAT_NAMES:
        raise _reject(f"Unsupported container: {format_name or 'unknown'}")
    if len(streams) > settings.max_input_streams:
        raise _reject(
            f"Too many streams ({len(streams)}; the limit is {settings.max_input_streams})"
        )
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not videos:
        raise _reject("No video stream found")
    video = videos[0]
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise _reject("The video stream has no picture size")
    limit = settings.max_input_dimension
    if width > limit or height > limit:
        raise _reject(f"Video dimensions {width}x{height} exceed the {limit} pixel limit")
    if width * height > settings.max_input_pixels:
        raise _reject(
            f"Video frame of {width * height} pixels exceeds the {settings.max_input_pixels} limit"
        )
    duration = duration_of(probe_data, video)
    if duration <= 0:
        raise _reject("Could not determine the video duration")
    if duration > settings.max_input_seconds:
        raise _reject(
            f"Video is too long ({duration:.0f} s; the limit is {settings.max_input_seconds:.0f} s)"
        )
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    frames = _frame_count(video, duration, fps)
    if frames > settings.max_input_frames:
        raise _reject(f"Too many frames ({frames}; the limit is {settings.max_input_frames})")
    index = int(video.get("index", 0))
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    audio_index = int(audio.get("index", 0)) if audio is not None else None
    return MediaInfo(format_name, duration, width, height, fps, index, audio_index,
                     _quarter_turn(video))  # fmt: skip


def _quarter_turn(video: dict[str, Any]) -> bool:
    """A display matrix (or the older `rotate` tag) of ±90°/270°."""
    angles = [(video.get("tags") or {}).get("rotate")]
    angles += [d.get("rotation") for d in video.get("side_data_list") or [] if isinstance(d, dict)]
    for angle in angles:
        try:
            if angle is not None and round(float(angle)) % 180 == 90:
                return True
        except (TypeError, ValueError):
            continue
    return False


def _frame_count(video: dict[str, Any], duration: float, fps: float) -> int:
    declared = str(video.get("nb_frames") or "")
    if declared.isdigit():
        return int(declared)
    return int(duration * fps)
