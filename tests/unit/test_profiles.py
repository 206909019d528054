"""The profiles file (core/profiles.py): the shipped one loads, a bad one says the file, the line,
the field and why — and stops the API at start-up; a job keeps the definition it was accepted
with; the reel's FFmpeg command is the seed's."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.main import create_app
from core.profiles import (
    SEED_REEL,
    ProfileFileError,
    UnknownProfile,
    choose,
    load_profiles,
    parse_profiles,
    stored_profile,
)
from core.settings import Settings
from worker.media.commands import OutputProfile, scaled_size, transcode_args
from worker.media.profiles import profile_from

REEL = (
    "reel:\n  description: the reel\n  trim: true\n  frame: fit\n  bumpers: true\n  audio: drop\n"
)


def _error(text: str) -> str:
    with pytest.raises(ProfileFileError) as caught:
        parse_profiles(text, "profiles.yaml")
    return str(caught.value)


def test_the_shipped_file_has_the_reel_as_the_seed_made_it() -> None:
    profiles = load_profiles()
    assert {"reel", "mp4"} <= set(profiles)
    reel = profiles["reel"]
    assert (reel.trim, reel.frame, reel.bumpers, reel.audio) == (True, "fit", True, "drop")
    settings = Settings()
    seed = profile_from(settings)
    assert profile_from(settings, reel) == seed  # same command as every job before profiles
    assert transcode_args("ffmpeg", Path("/i"), Path("/o"), profile_from(settings, reel), 30) == (
        transcode_args("ffmpeg", Path("/i"), Path("/o"), seed, 30)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (REEL + "mp4:\n  description: web\n  audio: loud\n",
         "profiles.yaml, line 9: profile 'mp4', field audio: Input should be 'drop', 'keep' or "
         "'normalise'"),
        (REEL + "mp4:\n  description: web\n  max_heigth: 720\n",
         "profiles.yaml, line 9: profile 'mp4', field max_heigth: Extra inputs are not permitted"),
        (REEL + "web:\n  description: w\n  bumpers: true\n  audio: keep\n",
         "profiles.yaml, line 7: profile 'web', field (the profile): Value error, bumpers have no "
         "sound: a profile with bumpers must drop the audio"),
        ("mp4:\n  description: web\n", "profiles.yaml: the default profile 'reel' is missing"),
        (REEL + "Big Name:\n  description: x\n", "profiles.yaml, line 7: profile name 'Big Name'"),
        ("reel: [", "profiles.yaml: not valid YAML"),
        ("- reel\n", "profiles.yaml: expected a mapping of profile names to profiles"),
    ],
)  # fmt: skip
def test_a_bad_file_says_where_and_why(text: str, expected: str) -> None:
    assert _error(text).startswith(expected)


def test_a_bad_file_stops_the_api_at_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text(REEL + "mp4:\n  description: web\n  audio: loud\n")
    with pytest.raises(ProfileFileError, match=r"profiles.yaml, line 9: profile 'mp4'"):
        create_app(Settings(environment="dev", profiles_file=bad))
    with pytest.raises(ProfileFileError, match="cannot be read"):
        create_app(Settings(environment="dev", profiles_file=tmp_path / "missing.yaml"))


def test_a_job_keeps_the_definition_it_was_accepted_with(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text(REEL + "web:\n  description: web\n  max_height: 720\n")
    chosen = choose("web", first)
    edited = tmp_path / "edited.yaml"
    edited.write_text(REEL + "web:\n  description: web\n  max_height: 360\n")
    assert choose("web", edited).name == "web"
    assert stored_profile(chosen.definition).max_height == 720  # not what the file says now
    assert stored_profile(None) == SEED_REEL  # jobs from before profiles
    with pytest.raises(UnknownProfile, match="known profiles: reel, web"):
        choose("8k", first)
    assert choose(None, first).name == choose("", first).name == "reel"


@pytest.mark.parametrize(
    ("display", "cap", "expected"),
    [((1920, 1080), 1080, (1920, 1080)), ((3840, 2160), 1080, (1920, 1080)),
     ((320, 240), 1080, (320, 240)), ((1440, 2560), 1080, (1080, 1920)),
     ((1081, 607), 1080, (1080, 608))],
)  # fmt: skip
def test_the_source_size_is_capped_on_its_short_side_never_upscaled_and_even(
    display: tuple[int, int], cap: int, expected: tuple[int, int]
) -> None:
    assert scaled_size(display, cap) == expected


def test_kept_sound_is_aac_stereo_and_normalised_only_when_asked() -> None:
    base = OutputProfile(**{**profile_from(Settings()).__dict__, "trim": False, "fit": False,
                            "bumpers": False})  # fmt: skip
    for audio, loudnorm in (("normalise", True), ("keep", False)):
        profile = OutputProfile(**{**base.__dict__, "audio": audio})
        args = " ".join(transcode_args("ffmpeg", Path("/i"), Path("/o"), profile, 30, 0,
                                       audio_index=1, display=(1920, 1080)))  # fmt: skip
        assert "-acodec aac" in args and "-ac 2" in args and "[0:1]" in args
        assert ("loudnorm=i=-16.0" in args) is loudnorm
        assert "-an" not in args.split()
    silent = " ".join(transcode_args("ffmpeg", Path("/i"), Path("/o"), base, 30, 0,
                                     audio_index=None, display=(1920, 1080)))  # fmt: skip
    assert "-an" in silent.split() and "aac" not in silent
