"""The previews a job's profile asks for, made after the main output from the same downloaded
source: the storyboard (sprite sheet + WebVTT track) and the animated WebP. Their files and manifest
entries join the job's outputs (worker/outputs.py); players fetch them through the video's
playback link, where the track's relative sheet name resolves."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from worker.media.commands import OutputProfile
from worker.media.previews import animated_args, plan_storyboard, storyboard_args, storyboard_vtt
from worker.media.probe import MediaInfo
from worker.media.runner import ResourceLimits, run
from worker.metrics import phase
from worker.outputs import CONTENT_TYPES, Made, attempt_prefix

SHEET, TRACK, ANIMATED = "storyboard.jpg", "storyboard.vtt", "preview.webp"
PREVIEW_FILES = (SHEET, TRACK, ANIMATED)


def make_previews(
    settings: Settings,
    profile: OutputProfile,
    info: MediaInfo,
    files: tuple[Path, Path],
    limits: ResourceLimits,
) -> list[tuple[Path, str]]:
    """Runs FFmpeg for each preview asked for; returns (local file, name) pairs."""
    source, work = files
    work.mkdir(parents=True, exist_ok=True)
    made: list[tuple[Path, str]] = []
    wanted = profile.previews
    if wanted.storyboard is not None:
        spec = wanted.storyboard
        plan = plan_storyboard(
            info.duration, info.display, spec.every_seconds, spec.width, spec.columns
        )
        with phase("storyboard"):
            run(
                storyboard_args(
                    settings.ffmpeg_binary, source, work / SHEET, plan, info.stream_index
                ),
                timeout=120,
                limits=limits,
            )
        (work / TRACK).write_text(storyboard_vtt(plan, info.duration, SHEET))
        made += [(work / SHEET, SHEET), (work / TRACK, TRACK)]
    if wanted.animated is not None:
        spec_a = wanted.animated
        start = min(spec_a.at_seconds, max(0.0, info.duration - spec_a.seconds))
        seconds = min(spec_a.seconds, info.duration)
        with phase("preview"):
            run(
                animated_args(
                    settings.ffmpeg_binary,
                    source,
                    work / ANIMATED,
                    start,
                    seconds,
                    spec_a.width,
                    info.stream_index,
                ),
                timeout=60,
                limits=limits,
            )
        made.append((work / ANIMATED, ANIMATED))
    return made


def add_previews(made: Made, video_id: int, attempt: int, previews: list[tuple[Path, str]]) -> None:
    base = f"{attempt_prefix(video_id, attempt)}/previews"
    types = {SHEET: CONTENT_TYPES[".jpg"], TRACK: "text/vtt", ANIMATED: "image/webp"}
    for path, name in previews:
        made.files.append((path, f"{base}/{name}", types[name]))
        if name != SHEET:  # the sheet is reached through the track
            kind = "storyboard" if name == TRACK else "preview"
            made.manifest.append(
                {"kind": kind, "name": name.split(".")[0], "key": f"{base}/{name}"}
            )
