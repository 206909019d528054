"""Pure builders of FFmpeg/ffprobe argument lists. They run nothing, so they are unit-tested as
data. An FFmpeg option is added here (and, if it is a knob, in media/profiles.py + settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from core.profiles import Previews

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
    # What the job's output profile asks for (core/profiles.py); the defaults are the seed's reel.
    trim: bool = True  # the first max_seconds only
    fit: bool = True  # letterbox into width×height; False: the source's size, ≤ max_height
    max_height: int = 1080  # the short side's cap when not fitted (never upscaled)
    bumpers: bool = True
    audio: str = "drop"  # drop | keep | normalise (EBU R128 at loudness_lufs)
    loudness_lufs: float = -16.0
    audio_kbps: int = 128
    thumbnail_at: float | None = None  # None: THUMBNAIL_AT_SECONDS
    renditions: tuple[str, ...] = ()  # an HLS ladder (worker/media/ladder.py) instead of an MP4
    segment_seconds: float = 4.0
    previews: Previews = Previews()  # storyboard, animated preview (worker/media/previews.py)


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


def scaled_size(display: tuple[int, int], max_short_side: int) -> tuple[int, int]:
    """The source's displayed size with its short side capped (never upscaled), both even."""
    width, height = display
    short = min(width, height)
    factor = min(1.0, max_short_side / short) if short > 0 else 1.0
    return (max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2))


def _picture(main: Any, p: OutputProfile, fps: int, display: tuple[int, int] | None) -> Any:
    if p.fit or display is None:
        return _fitted(main, p, fps)
    width, height = scaled_size(display, p.max_height)
    return (
        main.filter("scale", width, height)
        .filter("setsar", 1)
        .filter("fps", fps)
        .filter("format", "yuv420p")
    )


def _sound(source: Any, p: OutputProfile, audio_index: int | None) -> Any | None:
    """The audio the profile keeps, or None (dropped, or the source has none)."""
    if p.audio == "drop" or audio_index is None:
        return None
    stream = source[str(audio_index)]
    if p.audio == "normalise":  # single-pass EBU R128; loudnorm works at 192 kHz internally
        stream = stream.filter("loudnorm", i=p.loudness_lufs, tp=-1.5, lra=11)
    return stream.filter("aresample", 48000)


def transcode_args(
    ffmpeg: str,
    src: Path,
    dest: Path,
    profile: OutputProfile,
    source_fps: float,
    stream_index: int | None = None,
    *,
    audio_index: int | None = None,
    display: tuple[int, int] | None = None,
) -> list[str]:
    """The job's MP4: the reel by default — intro + (first `max_seconds`, fitted to the frame,
    audio dropped) + outro; per profile, the whole video at the source's size (`display`, after
    rotation) with its sound (`audio_index`) kept or normalised. `stream_index`: exactly the
    stream the probe accepted (never "the first video stream", which may be a huge attached
    picture the limits were not checked on)."""
    fps = output_fps(source_fps, profile)
    trim = {"t": profile.max_seconds} if profile.trim else {}
    source = ffmpeg_python.input("file:" + str(src), **trim, **UNTRUSTED_INPUT_OPTIONS)
    main = source.video if stream_index is None else source[str(stream_index)]
    picture = _picture(main, profile, fps, display)
    if profile.bumpers:  # one rendered card, shown as intro and outro (no sound: see profiles)
        bumper = _bumper(profile, fps).split()
        picture = ffmpeg_python.concat(bumper[0], picture, bumper[1], v=1, a=0)
    sound = _sound(source, profile, audio_index)
    encode: dict[str, Any] = {
        "vcodec": "libx264", "preset": profile.preset, "crf": profile.crf, "pix_fmt": "yuv420p",
        "movflags": "+faststart", "threads": profile.threads, "f": "mp4",
    }  # fmt: skip
    if sound is None:
        out = ffmpeg_python.output(picture, "file:" + str(dest), an=None, **encode)
    else:
        audio = {"acodec": "aac", "audio_bitrate": f"{profile.audio_kbps}k", "ac": 2}
        out = ffmpeg_python.output(picture, sound, "file:" + str(dest), **encode, **audio)
    # Global options go first: FFmpeg ignores options that trail the last output.
    return [ffmpeg, *GLOBAL_ARGS, "-progress", "pipe:1", "-nostats", *out.get_args()]


def thumbnail_args(
    ffmpeg: str,
    src: Path,
    dest: Path,
    profile: OutputProfile,
    at_seconds: float,
    stream_index: int | None = None,
    *,
    display: tuple[int, int] | None = None,
) -> list[str]:
    """One JPEG frame, framed as the video is (fitted, or the source's shape)."""
    stream = ["-map", f"0:{stream_index}"] if stream_index is not None else []
    if profile.fit or display is None:
        frame = _render(fit_filter(profile))
    else:
        frame = "scale={}:{},setsar=1".format(*scaled_size(display, min(profile.max_height, 720)))
    return [
        ffmpeg, *GLOBAL_ARGS,
        "-ss", f"{at_seconds:.3f}", *_flags(UNTRUSTED_INPUT_OPTIONS), "-i", "file:" + str(src),
        *stream, "-frames:v", "1", "-an", "-vf", frame, "-q:v", "3",
        "-f", "image2", "file:" + str(dest),
    ]  # fmt: skip
