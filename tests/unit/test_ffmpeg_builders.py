"""The FFmpeg command builders as data: nothing is run."""

from __future__ import annotations

from pathlib import Path

from worker.media.commands import (
    OutputProfile,
    output_fps,
    probe_args,
    thumbnail_args,
    transcode_args,
)

PROFILE = OutputProfile(
    width=1280, height=720, fps=30, max_seconds=30, preset="veryfast", crf=23, threads=2,
    bumper_seconds=2, bumper_text="reelforge", bumper_color="0x101820",
)  # fmt: skip
SRC, DEST = Path("/work/in"), Path("/work/out.mp4")


def _value_after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_transcode_trims_fits_pads_drops_audio_and_encodes_h264() -> None:
    args = transcode_args("ffmpeg", SRC, DEST, PROFILE, source_fps=60)
    graph = _value_after(args, "-filter_complex")
    main_input = args.index("file:/work/in")
    assert args[main_input - 1] == "-i" and args[main_input - 3 : main_input - 1] == ["-t", "30"]
    assert "scale=1280:720:force_original_aspect_ratio=decrease" in graph
    assert "pad=1280:720:(ow-iw)/2:(oh-ih)/2" in graph and "setsar=1" in graph
    assert "fps=30" in graph  # 60 fps in, capped at 30
    assert "concat=a=0:n=3:v=1" in graph
    assert "-an" in args
    assert _value_after(args, "-vcodec") == "libx264"
    assert _value_after(args, "-preset") == "veryfast" and _value_after(args, "-crf") == "23"
    assert _value_after(args, "-pix_fmt") == "yuv420p"
    assert _value_after(args, "-movflags") == "+faststart"
    assert _value_after(args, "-threads") == "2"
    assert args[-1] == "file:/work/out.mp4"


def test_global_options_come_before_any_input() -> None:
    args = transcode_args("ffmpeg", SRC, DEST, PROFILE, source_fps=25)
    first_input = args.index("-i")
    for flag in ("-y", "-nostdin", "-progress"):
        assert args.index(flag) < first_input
    assert _value_after(args, "-progress") == "pipe:1"


def test_untrusted_inputs_are_restricted_to_local_files_and_video_demuxers() -> None:
    for args in (
        probe_args("ffprobe", SRC),
        thumbnail_args("ffmpeg", SRC, DEST, PROFILE, 1.0),
        transcode_args("ffmpeg", SRC, DEST, PROFILE, 30),
    ):
        assert _value_after(args, "-protocol_whitelist") == "file"
        assert set(_value_after(args, "-format_whitelist").split(",")) == {
            "mov", "mp4", "matroska", "webm", "avi",
        }  # fmt: skip
        assert "file:/work/in" in args


def test_bumper_is_a_generated_card_with_the_service_name() -> None:
    args = transcode_args("ffmpeg", SRC, DEST, PROFILE, 30)
    card = args[args.index("lavfi") + 2]
    assert card == "color=c=0x101820:s=1280x720:d=2:r=30"
    assert "drawtext=" in _value_after(args, "-filter_complex")
    assert "text=reelforge" in _value_after(args, "-filter_complex")


def test_bumper_clip_replaces_the_card(tmp_path: Path) -> None:
    clip = tmp_path / "intro.mp4"
    profile = OutputProfile(**{**PROFILE.__dict__, "bumper_clip": clip})
    args = transcode_args("ffmpeg", SRC, DEST, profile, 30)
    assert "lavfi" not in args and f"file:{clip}" in args


def test_output_fps_never_exceeds_the_profile() -> None:
    assert output_fps(59.94, PROFILE) == 30
    assert output_fps(24, PROFILE) == 24
    assert output_fps(0, PROFILE) == 30


def test_thumbnail_is_one_fitted_jpeg_frame() -> None:
    args = thumbnail_args("ffmpeg", SRC, Path("/work/t.jpg"), PROFILE, 1.5)
    assert _value_after(args, "-ss") == "1.500" and _value_after(args, "-frames:v") == "1"
    assert "pad=1280:720" in _value_after(args, "-vf")
    assert args[-1] == "file:/work/t.jpg"


def test_the_probed_stream_is_mapped_in_transcode_and_thumbnail() -> None:
    """Never "the first video stream": that may be a cover picture no limit was checked on."""
    transcode = transcode_args("ffmpeg", SRC, DEST, PROFILE, 30, stream_index=1)
    inputs = [transcode[i + 1] for i, arg in enumerate(transcode) if arg == "-i"]
    upload = inputs.index("file:/work/in")  # the generated card is another input
    graph = _value_after(transcode, "-filter_complex")
    assert graph.count(f"[{upload}:1]") == 1 and f"[{upload}:v]" not in graph
    thumb = thumbnail_args("ffmpeg", SRC, Path("/work/t.jpg"), PROFILE, 1.0, stream_index=1)
    assert _value_after(thumb, "-map") == "0:1"
