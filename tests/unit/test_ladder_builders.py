"""The HLS ladder and preview builders as data (worker/media/ladder.py, previews.py): one input
decoded once and split, one encoder per rendition with its cap, keyframes forced on the segment
grid in every rendition, one shared audio rendition, fMP4 segments; the plan never upscales."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.profiles import load_profiles
from core.settings import Settings
from worker.media.ladder import ladder_args, plan_ladder
from worker.media.previews import plan_storyboard, storyboard_vtt
from worker.media.profiles import profile_from

HLS = profile_from(Settings(), load_profiles()["hls"])


def _args(plan_for: tuple[int, int], audio: int | None) -> list[str]:
    plan = plan_ladder(plan_for, HLS.renditions)
    return ladder_args("ffmpeg", Path("/in"), Path("/out"), HLS, plan, 30, 0, audio)


def test_one_input_one_decode_split_to_every_rendition() -> None:
    args = _args((1920, 1080), audio=1)
    assert args.count("-i") == 1
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:0]fps=30,split=4[s0][s1][s2][s3];")
    assert "[s0]scale=1920:1080" in graph and "[s3]scale=640:360" in graph
    assert "[0:1]loudnorm=i=-16.0:tp=-1.5:lra=11,aresample=48000[aud]" in graph
    caps = [args[i + 1] for i, a in enumerate(args) if a.startswith("-maxrate:v:")]
    assert caps == ["5000k", "2800k", "1400k", "800k"]
    assert args[args.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*4.0)"
    assert args[args.index("-sc_threshold") + 1] == "0"  # no extra keyframes on scene cuts
    assert args[args.index("-hls_segment_type") + 1] == "fmp4"
    assert args[args.index("-var_stream_map") + 1] == (
        "a:0,agroup:audio,name:audio,default:yes v:0,name:1080p,agroup:audio "
        "v:1,name:720p,agroup:audio v:2,name:480p,agroup:audio v:3,name:360p,agroup:audio"
    )


def test_a_silent_source_gets_no_audio_group() -> None:
    args = _args((1280, 720), audio=None)
    assert "[aud]" not in " ".join(args) and "-c:a" not in args
    assert args[args.index("-var_stream_map") + 1] == ("v:0,name:720p v:1,name:480p v:2,name:360p")


def test_the_plan_never_upscales_and_keeps_at_least_one_rendition() -> None:
    assert [r.name for r in plan_ladder((3840, 2160), HLS.renditions)] == [
        "1080p",
        "720p",
        "480p",
        "360p",
    ]
    assert [(r.width, r.height) for r in plan_ladder((1080, 1920), HLS.renditions)][:2] == [
        (1080, 1920),
        (720, 1280),
    ]
    tiny = plan_ladder((320, 240), HLS.renditions)
    assert [(r.name, r.width, r.height) for r in tiny] == [("360p", 320, 240)]


def test_the_storyboard_track_points_every_interval_at_its_tile() -> None:
    plan = plan_storyboard(9.0, (1920, 1080), 2.0, 160, 10)
    assert (plan.count, plan.columns, plan.rows, plan.tile_height) == (5, 5, 1, 90)
    vtt = storyboard_vtt(plan, 9.0, "storyboard.jpg").splitlines()
    assert vtt[:5] == [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:02.000",
        "storyboard.jpg#xywh=0,0,160,90",
        "",
    ]
    assert vtt[-1] == "storyboard.jpg#xywh=640,0,160,90" and vtt[-2].endswith("00:00:09.000")
    long = plan_storyboard(4 * 3600, (1280, 720), 2.0, 160, 10)
    assert long.count <= 400 and long.every == 36.0  # one sheet: a longer interval


def test_a_bad_profiles_file_stops_the_worker_saying_why(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text("reel:\n  description: r\n  renditions: [720p]\n")
    done = subprocess.run(
        [sys.executable, "-c", "import worker.celery_app"],
        env={"PROFILES_FILE": str(bad), "ENVIRONMENT": "dev", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert (
        f"{bad}, line 1: profile 'reel', field (the profile): Value error, renditions are "
        "for output: hls"
    ) in done.stderr
