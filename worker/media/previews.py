"""Preview builders (pure): a storyboard — one sprite sheet of frames every few seconds and the
WebVTT thumbnails track players read for scrubbing (`sheet.jpg#xywh=x,y,w,h`) — and a short
animated WebP. Each is one small FFmpeg run reading the source at a low frame rate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from worker.media.commands import GLOBAL_ARGS, UNTRUSTED_INPUT_OPTIONS, scaled_size

MAX_TILES = 400  # one sheet; a longer video gets a longer interval instead of a bigger sheet


@dataclass(frozen=True)
class Storyboard:
    every: float  # seconds between tiles
    tile_width: int
    tile_height: int
    columns: int
    rows: int
    count: int


def plan_storyboard(
    duration: float, display: tuple[int, int], every: float, width: int, columns: int
) -> Storyboard:
    every = max(every, duration / MAX_TILES)
    count = max(1, math.ceil(duration / every))
    tile_w, tile_h = scaled_size(display, 10_000)  # the shape, even-sized
    tile_h = max(2, round(width * tile_h / tile_w / 2) * 2)
    columns = min(columns, count)
    return Storyboard(every, width, tile_h, columns, math.ceil(count / columns), count)


def _input(src: Path, stream_index: int) -> list[str]:
    flags = [item for key, value in UNTRUSTED_INPUT_OPTIONS.items() for item in (f"-{key}", value)]
    return [*flags, "-i", f"file:{src}", "-map", f"0:{stream_index}", "-an"]


def storyboard_args(
    ffmpeg: str, src: Path, dest: Path, plan: Storyboard, stream_index: int
) -> list[str]:
    graph = (
        f"fps=1/{plan.every:.3f},scale={plan.tile_width}:{plan.tile_height},setsar=1,"
        f"tile={plan.columns}x{plan.rows}"
    )
    return [
        ffmpeg,
        *GLOBAL_ARGS,
        *_input(src, stream_index),
        "-vf",
        graph,
        "-frames:v",
        "1",
        "-q:v",
        "4",
        "-f",
        "image2",
        f"file:{dest}",
    ]


def storyboard_vtt(plan: Storyboard, duration: float, sheet_name: str) -> str:
    """WEBVTT cues: each interval of the video → its tile in the sheet."""

    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return (
            f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
        )

    lines = ["WEBVTT", ""]
    for i in range(plan.count):
        start, end = i * plan.every, min(duration, (i + 1) * plan.every)
        if end <= start:
            break
        x, y = (i % plan.columns) * plan.tile_width, (i // plan.columns) * plan.tile_height
        lines += [
            f"{stamp(start)} --> {stamp(end)}",
            f"{sheet_name}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)


def animated_args(
    ffmpeg: str, src: Path, dest: Path, start: float, seconds: float, width: int, stream_index: int
) -> list[str]:
    """A looping animated WebP of `seconds` (≤ 3) from `start`, 10 frames a second."""
    return [
        ffmpeg,
        *GLOBAL_ARGS,
        "-ss",
        f"{start:.3f}",
        "-t",
        f"{seconds:.3f}",
        *_input(src, stream_index),
        "-vf",
        f"fps=10,scale={width}:-2,setsar=1",
        "-loop",
        "0",
        "-c:v",
        "libwebp",
        "-quality",
        "60",
        "-f",
        "webp",
        f"file:{dest}",
    ]
