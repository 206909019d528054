"""The HLS ladder builder: one FFmpeg process decodes the source once, splits the picture into each
rendition's scaler and encoder and the sound into one loudness-normalised AAC track shared by all
renditions (an EXT-X-MEDIA audio group), and writes fMP4/CMAF segments with keyframes forced on
the same instants in every rendition, so players can switch between them. Pure: builds argument
lists and plans, runs nothing (unit-tested as data; worker/pipeline.py runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.profiles import HLS_AUDIO, HLS_MASTER, HLS_MEDIA_PLAYLIST, RENDITIONS
from worker.media.commands import (
    GLOBAL_ARGS,
    UNTRUSTED_INPUT_OPTIONS,
    OutputProfile,
    output_fps,
    scaled_size,
)

MASTER, MEDIA_PLAYLIST, AUDIO_NAME = HLS_MASTER, HLS_MEDIA_PLAYLIST, HLS_AUDIO


@dataclass(frozen=True)
class Rendition:
    name: str  # "720p": its folder and its name in the API
    width: int
    height: int
    kbps: int  # the encoder's cap (maxrate); the master playlist's BANDWIDTH adds the audio


def plan_ladder(display: tuple[int, int], wanted: tuple[str, ...]) -> list[Rendition]:
    """The profile's renditions whose short side the source reaches (never upscaled), tallest
    first; a source smaller than all of them gets one rendition at its own size."""
    short = min(display)
    chosen = [name for name in wanted if RENDITIONS[name][0] <= short]
    if not chosen:  # the smallest asked for, at the source's own size
        smallest = min(wanted, key=lambda name: RENDITIONS[name][0])
        width, height = scaled_size(display, short)
        return [Rendition(smallest, width, height, RENDITIONS[smallest][1])]
    chosen.sort(key=lambda name: -RENDITIONS[name][0])
    plan = []
    for name in chosen:
        width, height = scaled_size(display, RENDITIONS[name][0])
        plan.append(Rendition(name, width, height, RENDITIONS[name][1]))
    return plan


def ladder_args(
    ffmpeg: str,
    src: Path,
    out_dir: Path,
    profile: OutputProfile,
    plan: list[Rendition],
    source_fps: float,
    stream_index: int,
    audio_index: int | None,
) -> list[str]:
    """master.m3u8 + <rendition>/index.m3u8, init.mp4, seg-NNNNN.m4s (+ audio/ when the source
    has sound and the profile keeps it)."""
    fps = output_fps(source_fps, profile)
    splits = "".join(f"[s{i}]" for i in range(len(plan)))
    graph = [f"[0:{stream_index}]fps={fps},split={len(plan)}{splits}"]
    for i, r in enumerate(plan):
        graph.append(f"[s{i}]scale={r.width}:{r.height},setsar=1,format=yuv420p[v{i}]")
    sound = audio_index is not None and profile.audio != "drop"
    if sound:
        loudness = (
            f"loudnorm=i={profile.loudness_lufs}:tp=-1.5:lra=11,"
            if profile.audio == "normalise"
            else ""
        )
        graph.append(f"[0:{audio_index}]{loudness}aresample=48000[aud]")
    args = [ffmpeg, *GLOBAL_ARGS, "-progress", "pipe:1", "-nostats"]
    for key, value in UNTRUSTED_INPUT_OPTIONS.items():
        args += [f"-{key}", value]
    if profile.trim:
        args += ["-t", str(profile.max_seconds)]
    args += ["-i", f"file:{src}", "-filter_complex", ";".join(graph)]
    streams = []
    for i, r in enumerate(plan):
        args += [
            "-map",
            f"[v{i}]",
            f"-maxrate:v:{i}",
            f"{r.kbps}k",
            f"-bufsize:v:{i}",
            f"{2 * r.kbps}k",
        ]
        streams.append(f"v:{i},name:{r.name}" + (",agroup:audio" if sound else ""))
    args += [
        "-c:v",
        "libx264",
        "-preset",
        profile.preset,
        "-crf",
        str(profile.crf),
        "-profile:v",
        "high",
        "-threads",
        str(profile.threads),
        # a keyframe at every segment boundary, in every rendition, and nowhere else
        "-force_key_frames",
        f"expr:gte(t,n_forced*{profile.segment_seconds})",
        "-sc_threshold",
        "0",
    ]
    if sound:
        args += ["-map", "[aud]", "-c:a", "aac", "-b:a", f"{profile.audio_kbps}k", "-ac", "2"]
        streams.insert(0, f"a:0,agroup:audio,name:{AUDIO_NAME},default:yes")
    args += [
        "-f",
        "hls",
        "-hls_time",
        str(profile.segment_seconds),
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        "init.mp4",
        "-hls_segment_filename",
        f"{out_dir}/%v/seg-%05d.m4s",
        "-master_pl_name",
        MASTER,
        "-var_stream_map",
        " ".join(streams),
        f"{out_dir}/%v/{MEDIA_PLAYLIST}",  # our own paths: the hls muxer needs them bare
    ]
    return args
