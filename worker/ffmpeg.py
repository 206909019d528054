"""The FFmpeg boundary: pure builders of argument lists, and one runner.

Builders run nothing, so they are unit-tested as data. The runner starts FFmpeg in its own
process group with `shell=False`, parses `-progress`, keeps a bounded stderr tail, enforces a
wall-clock timeout and a stall timeout, and always kills the whole group on the way out.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg as ffmpeg_python

# Demuxers an upload may use. The whitelist stops FFmpeg from treating a text file as an HLS
# playlist or concat script (which could read other files or the network).
INPUT_FORMATS = "mov,mp4,matroska,webm,avi"
ACCEPTED_FORMAT_NAMES = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi")
UNTRUSTED_INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": INPUT_FORMATS}
PR_SET_PDEATHSIG = 1
GLOBAL_ARGS = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")


class FFmpegError(Exception):
    """FFmpeg failed. `permanent` means the input is at fault: retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Cancelled(Exception):
    """The job was deleted or its claim was lost while FFmpeg ran."""


# ---------------------------------------------------------------- builders (pure) -----------


def _flags(options: dict[str, str]) -> list[str]:
    return [item for key, value in options.items() for item in (f"-{key}", value)]


def probe_args(ffprobe: str, path: Path) -> list[str]:
    return [
        ffprobe, "-v", "error", *_flags(UNTRUSTED_INPUT_OPTIONS),
        "-show_format", "-show_streams", "-of", "json", "file:" + str(path),
    ]  # fmt: skip


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


def _fit(stream: ffmpeg_python.nodes.FilterableStream, p: OutputProfile, fps: int):  # type: ignore[no-untyped-def]
    """Scale to fit the frame, pad to 16:9 (letterbox or pillarbox), square pixels, fixed fps."""
    return (
        stream.filter("scale", p.width, p.height, force_original_aspect_ratio="decrease")
        .filter("pad", p.width, p.height, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", 1)
        .filter("fps", fps)
        .filter("format", "yuv420p")
    )


def _bumper(p: OutputProfile, fps: int):  # type: ignore[no-untyped-def]
    if p.bumper_clip is not None:
        clip = ffmpeg_python.input(f"file:{p.bumper_clip}", t=p.bumper_seconds).video
        return _fit(clip, p, fps)
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
    ffmpeg: str, src: Path, dest: Path, profile: OutputProfile, source_fps: float
) -> list[str]:
    """intro + (first `max_seconds`, fitted to the frame, audio dropped) + outro → H.264 MP4."""
    fps = output_fps(source_fps, profile)
    main = ffmpeg_python.input(
        "file:" + str(src), t=profile.max_seconds, **UNTRUSTED_INPUT_OPTIONS
    ).video
    bumper = _bumper(profile, fps).split()  # one rendered card, shown as intro and outro
    joined = ffmpeg_python.concat(bumper[0], _fit(main, profile, fps), bumper[1], v=1, a=0)
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
    ffmpeg: str, src: Path, dest: Path, profile: OutputProfile, at_seconds: float
) -> list[str]:
    fit = (
        f"scale={profile.width}:{profile.height}:force_original_aspect_ratio=decrease,"
        f"pad={profile.width}:{profile.height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
    )
    return [
        ffmpeg, *GLOBAL_ARGS,
        "-ss", f"{at_seconds:.3f}", *_flags(UNTRUSTED_INPUT_OPTIONS), "-i", "file:" + str(src),
        "-frames:v", "1", "-an", "-vf", fit, "-q:v", "3", "-f", "image2", "file:" + str(dest),
    ]  # fmt: skip


# ---------------------------------------------------------------- runner ---------------------


@dataclass
class RunResult:
    stdout: str
    stderr_tail: str


@dataclass(frozen=True)
class ResourceLimits:
    """setrlimit values for the FFmpeg child; 0 leaves a limit unset."""

    memory_bytes: int = 0
    cpu_seconds: int = 0
    open_files: int = 0


def _child_setup(limits: ResourceLimits) -> Callable[[], None]:
    def setup() -> None:
        """In the child before exec: die with the worker (even on SIGKILL), and cap resources."""
        with contextlib.suppress(OSError):  # not Linux: the process-group kill still applies
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        for which, value in (
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_NOFILE, limits.open_files),
        ):
            if value > 0:
                resource.setrlimit(which, (value, value))

    return setup


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run(
    args: list[str],
    *,
    timeout: float,
    stall_timeout: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    stderr_lines: int = 20,
    limits: ResourceLimits | None = None,
) -> RunResult:
    """Run one FFmpeg/ffprobe command. `on_progress(seconds_of_output)` may raise (e.g. Cancelled)
    to stop the run; the process group is killed whatever happens."""
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=_child_setup(limits or ResourceLimits()),
        )  # fmt: skip
    except OSError as exc:
        raise FFmpegError(f"Could not start {Path(args[0]).name}: {exc}", permanent=False) from exc
    tail: deque[str] = deque(maxlen=stderr_lines)
    drain = threading.Thread(target=_drain, args=(proc, tail), daemon=True)
    drain.start()
    state = {"last_progress": time.monotonic(), "why_killed": ""}
    watchdog = threading.Thread(
        target=_watch, args=(proc, state, time.monotonic() + timeout, stall_timeout), daemon=True
    )
    watchdog.start()
    stdout: list[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if on_progress is None:
                stdout.append(line)
                continue
            if line.startswith("out_time_us=") and line[12:].lstrip("-").isdigit():
                state["last_progress"] = time.monotonic()
                on_progress(max(0, int(line[12:])) / 1_000_000)
        code = proc.wait()
    finally:
        _kill_group(proc)  # also reaps anything FFmpeg left in its group
        drain.join(timeout=2)
    stderr_tail = "\n".join(tail)
    if state["why_killed"]:
        raise FFmpegError(str(state["why_killed"]), permanent=True)
    if code < 0:  # killed by a signal we did not send: a crash or the OOM killer, maybe transient
        raise FFmpegError(f"FFmpeg crashed (signal {-code})", permanent=False)
    if code != 0:
        last = tail[-1] if tail else f"exit code {code}"
        raise FFmpegError(f"FFmpeg failed: {last}"[:500], permanent=True)
    return RunResult(stdout="\n".join(stdout), stderr_tail=stderr_tail)


def _drain(proc: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").strip()
        if line:
            tail.append(line)


def _watch(
    proc: subprocess.Popen[bytes], state: dict[str, object], deadline: float, stall: float | None
) -> None:
    while proc.poll() is None:
        now = time.monotonic()
        if now > deadline:
            state["why_killed"] = "Processing timed out"
        elif stall is not None and now - float(state["last_progress"]) > stall:  # type: ignore[arg-type]
            state["why_killed"] = f"FFmpeg made no progress for {stall:g} s"
        if state["why_killed"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        time.sleep(0.2)


def probe(
    ffprobe: str, path: Path, timeout: float = 30.0, limits: ResourceLimits | None = None
) -> dict[str, object]:
    try:
        result = run(probe_args(ffprobe, path), timeout=timeout, limits=limits)
    except FFmpegError as exc:
        raise FFmpegError(
            "The file is not a readable video (unsupported or corrupt container)", permanent=True
        ) from exc
    try:
        data: dict[str, object] = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise FFmpegError("ffprobe returned unreadable output", permanent=True) from exc
    return data


def duration_of(probe_data: dict[str, object]) -> float:
    fmt = probe_data.get("format")
    try:
        return float(fmt.get("duration", 0)) if isinstance(fmt, dict) else 0.0
    except (TypeError, ValueError):
        return 0.0
