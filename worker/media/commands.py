"""Pure builders of FFmpeg/ffprobe argument lists. They run nothing, so they are unit-tested as
data. An FFmpeg option is added here (and, if it is a knob, in media/profiles.py + settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

# Demuxers an upload may use. The whitelist stops FFmpeg from treating a text file as an HLS
# playlist or concat script (which could read other files or the network).
INPUT_FORMATS = "mov,mp4,matroska,webm,avi"
UNTRUSTED_INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": INPUT_FORMATS}
GLOBAL_ARGS = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")


@dataclass(frozen=True)
class OutputProfile:
    width: int
    height: int
    fps: int
    max_seconds: float
    preset: str
    crf: int
    threads: int
    bumper_seconds: float
    bumper_text: str
    bumper_color: str
    bumper_logo: Path | None = None
    bumper_clip: Path | None = None


FilterStep = tuple[str, tuple[Any, ...], dict[str, Any]]


def fit_filter(p: OutputProfile) -> list[FilterStep]:
    """Scale to fit the frame and pad to 16:9 (letterbox or pillarbox), square pixels. The one
    definition: the transcode applies it as graph nodes, the thumbnail as a -vf string."""
    return [
        ("scale", (p.width, p.height), {"force_original_aspect_ratio": "decrease"}),
        ("pad", (p.width, p.height, "(ow-iw)/2", "(oh-ih)/2"), {"color": "black"}),
        ("setsar", (1,), {}),
    ]


def _apply(stream: Any, steps: list[FilterStep]) -> Any:
    for name, args, kwargs in steps:
        stream = stream.filter(name, *args, **kwargs)
    return stream


def _render(steps: list[FilterStep]) -> str:
    def one(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        values = [str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
        return f"{name}={':'.join(values)}"

    return ",".join(one(*step) for step in steps)


def _flags(options: dict[str, str]) -> list[str]:
    return [item for key, value in options.items() for item in (f"-{key}", value)]


def probe_args(ffprobe: str, path: Path) -> list[str]:
    return [
        ffprobe, "-v", "error", *_flags(UNTRUSTED_INPUT_OPTIONS),
        "-show_format", "-show_streams", "-of", "json", "file:" + str(path),
    ]  # fmt: skip


def _fitted(stream: Any, p: OutputProfile, fps: int) -> Any:
    return _apply(stream, fit_filter(p)).filter("fps", fps).filter("format", "yuv420p")


def _bumper(p: OutputProfile, fps: int) -> Any:
    if p.bumper_clip is not None:
        clip = ffmpeg_python.input(f"file:{p.bumper_clip}", t=p.bumper_seconds).video
        return _fitted(clip, p, fps)
    card = ffmpeg_python.input(
        f"color=c={p.bumper_color}:s={p.width}x{p.height}:d={p.bumper_seconds}:r={fps}",
        f="lavfi",
    ).video
    if p.bumper_logo is not None:
        logo = ffmpeg_python.input(f"file:{p.bumper_logo}").video.filter("scale", -1, p.height // 3)
        card = ffmpeg_python.overlay(card, logo, x="(W-w)/2", y="(H-h)/2")
    else:
        card = card.filter(
            "drawtext",
            text=p.bumper_text,
            fontcolor="white",
            fontsize=p.height // 8,
            x="(w-text_w)/2",
            y="(h-text_h)/2",
        )
    return card.filter("setsar", 1).filter("format", "yuv420p")


def output_fps(source_fps: float, profile: OutputProfile) -> int:
    if source_fps <= 0:
        return profile.fps
    return max(1, min(profile.fps, round(source_fps)))


def transcode_args(
    ffmpeg: str,
    src: Path,
    dest: Path,
    profile: OutputProfile,
    source_fps: float,
    stream_index: int | None = None,
) -> list[str]:
    """intro + (first `max_seconds`, fitted to the frame, audio dropped) + outro → H.264 MP4.
    `stream_index`: exactly the stream the probe accepted (never "the first video stream",
    which may be a huge attached picture the limits were not checked on)."""
    fps = output_fps(source_fps, profile)
    source = ffmpeg_python.input(
        "file:" + str(src), t=profile.max_seconds, **UNTRUSTED_INPUT_OPTIONS
    )
    main = source.video if stream_index is None else source[str(stream_index)]
    bumper = _bumper(profile, fps).split()  # one rendered card, shown as intro and outro
    joined = ffmpeg_python.concat(bumper[0], _fitted(main, profile, fps), bumper[1], v=1, a=0)
    out = ffmpeg_python.output(
        joined,
        "file:" + str(dest),
        an=None,
        vcodec="libx264",
        preset=profile.preset,
        crf=profile.crf,
        pix_fmt="yuv420p",
        movflags="+faststart",
        threads=profile.threads,
        f="mp4",
    )
    # Global options go first: FFmpeg ignores options that trail the last output.
    return [ffmpeg, *GLOBAL_ARGS, "-progress", "pipe:1", "-nostats", *out.get_args()]


def thumbnail_args(
    ffmpeg: str,
    src: Path,
    dest: Path,
    profile: OutputProfile,
    at_seconds: float,
    stream_index: int | None = None,
) -> list[str]:
    stream = ["-map", f"0:{stream_index}"] if stream_index is not None else []
    return [
        ffmpeg, *GLOBAL_ARGS,
        "-ss", f"{at_seconds:.3f}", *_flags(UNTRUSTED_INPUT_OPTIONS), "-i", "file:" + str(src),
        *stream, "-frames:v", "1", "-an", "-vf", _render(fit_filter(profile)), "-q:v", "3",
        "-f", "image2", "file:" + str(dest),
    ]  # fmt: skip
