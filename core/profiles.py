"""Output profiles: what a job makes, chosen per upload by name. Defined in a YAML file shipped with
the project (`core/profiles.yaml`; `PROFILES_FILE` points elsewhere), validated at start-up — a bad
file stops the API and the worker with the file, the line and the reason. A job stores the name and
the definition it was accepted with, so editing the file later does not change queued jobs.

`reel` is the seed's output and the default: the first `OUTPUT_MAX_SECONDS`, fitted to
`OUTPUT_WIDTH`×`OUTPUT_HEIGHT` with letterbox/pillarbox, no sound, the intro/outro bumper, a
thumbnail — the frame, trim and bumper come from settings, as they always did."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PROFILE = "reel"
PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
# The HLS renditions a profile may ask for: the short side in pixels, and the video bitrate's cap
# (kbit/s; capped-CRF encoding, so simple pictures take less).
RENDITIONS: dict[str, tuple[int, int]] = {
    "1080p": (1080, 5000),
    "720p": (720, 2800),
    "480p": (480, 1400),
    "360p": (360, 800),
}
# The HLS tree a job makes (worker/media/ladder.py) and playback links open (app/playback):
# master.m3u8, <rendition>/index.m3u8 + init + segments, and audio/ for the shared sound.
HLS_MASTER = "master.m3u8"
HLS_MEDIA_PLAYLIST = "index.m3u8"
HLS_AUDIO = "audio"
RenditionName = Literal["1080p", "720p", "480p", "360p"]


class Storyboard(BaseModel):
    """A sprite sheet of frames every `every_seconds` (`width` pixels wide, `columns` a row) and
    the WebVTT thumbnails track players use for scrubbing."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    every_seconds: float = Field(default=2.0, ge=0.5, le=60)
    width: int = Field(default=160, ge=32, le=640)
    columns: int = Field(default=10, ge=1, le=30)


class AnimatedPreview(BaseModel):
    """A looping animated WebP of at most 3 s from `at_seconds` (for hover previews)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_seconds: float = Field(default=1.0, ge=0)
    seconds: float = Field(default=3.0, gt=0, le=3)
    width: int = Field(default=320, ge=32, le=1280)


class Previews(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    storyboard: Storyboard | None = None
    animated: AnimatedPreview | None = None


class Profile(BaseModel):
    """One output. `frame: fit` letterboxes into OUTPUT_WIDTH×OUTPUT_HEIGHT (the reel);
    `frame: source` keeps the source's size, scaled down to `max_height` (never up)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1, max_length=300)
    output: Literal["mp4", "hls"] = "mp4"
    # hls: the ladder (never above the source; at least one) and the segment length in seconds
    renditions: tuple[RenditionName, ...] = ()
    segment_seconds: float = Field(default=4.0, ge=1, le=10)
    trim: bool = False  # the first OUTPUT_MAX_SECONDS only
    frame: Literal["fit", "source"] = "source"
    max_height: int = Field(default=1080, ge=144, le=2160)
    bumpers: bool = False  # intro and outro (BUMPER_* settings)
    # drop: no sound; keep: AAC as it is; normalise: AAC at `loudness_lufs` (EBU R128, loudnorm).
    # A source without sound gets no audio track whatever this says.
    audio: Literal["drop", "keep", "normalise"] = "normalise"
    loudness_lufs: float = Field(default=-16.0, ge=-70, le=-5)
    audio_kbps: int = Field(default=128, ge=32, le=512)
    thumbnail_at_seconds: float | None = Field(default=None, ge=0)  # None: THUMBNAIL_AT_SECONDS
    previews: Previews = Previews()  # a thumbnail always; a storyboard, an animated preview

    @model_validator(mode="after")
    def _coherent(self) -> Profile:
        if self.frame == "fit" and self.max_height != 1080:
            raise ValueError("max_height applies to frame: source only (fit uses OUTPUT_HEIGHT)")
        if self.output == "hls" and not self.renditions:
            raise ValueError("an hls profile needs at least one rendition")
        if self.output == "hls" and (self.frame == "fit" or self.bumpers):
            raise ValueError("an hls profile keeps the source's frame and has no bumpers")
        if self.output == "mp4" and self.renditions:
            raise ValueError("renditions are for output: hls")
        if len(set(self.renditions)) != len(self.renditions):
            raise ValueError("a rendition is listed twice")
        if self.bumpers and self.audio != "drop":
            raise ValueError("bumpers have no sound: a profile with bumpers must drop the audio")
        return self

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ProfileFileError(ValueError):
    """The profiles file cannot be used: says which file, where and why."""


def _line_of(root: yaml.Node, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest key of a pydantic error's location that exists."""
    node: yaml.Node = root
    line = int(root.start_mark.line) + 1
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
        if found is None:
            break
        line, node = int(found[0].start_mark.line) + 1, found[1]
    return line


def parse_profiles(text: str, source: str) -> dict[str, Profile]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileFileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data or root is None:
        raise ProfileFileError(f"{source}: expected a mapping of profile names to profiles")
    profiles: dict[str, Profile] = {}
    for name, body in data.items():
        line = _line_of(root, (name,))
        if not isinstance(name, str) or not _valid_name(name):
            raise ProfileFileError(
                f"{source}, line {line}: profile name {name!r} must match {NAME_PATTERN}"
            )
        try:
            profiles[name] = Profile.model_validate(body or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = tuple(first["loc"])
            field = ".".join(str(p) for p in loc) or "(the profile)"
            where = _line_of(root, (name, *loc))
            raise ProfileFileError(
                f"{source}, line {where}: profile {name!r}, field {field}: {first['msg']}"
            ) from exc
    if DEFAULT_PROFILE not in profiles:
        raise ProfileFileError(f"{source}: the default profile {DEFAULT_PROFILE!r} is missing")
    return profiles


def _valid_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


@functools.cache
def _load(path: Path) -> dict[str, Profile]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileFileError(f"{path.resolve()}: cannot be read: {exc.strerror or exc}") from exc
    return parse_profiles(text, str(path.resolve()))


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The profiles of `path` (default: the shipped file), parsed once per process (keyed by the
    path as given: no filesystem call on the upload path)."""
    return _load(path or PROFILES_FILE)


def definition_of(profile: Profile) -> str:
    """What a job stores: the definition it was accepted with, as JSON."""
    return profile.model_dump_json()


# What every job made before profiles existed (and what a job with no stored definition makes).
SEED_REEL = Profile(
    description="The seed's reel", trim=True, frame="fit", bumpers=True, audio="drop"
)


def stored_profile(definition: str | None) -> Profile:
    """A job's profile as it was accepted (a job from before profiles: the seed's reel)."""
    if not definition:
        return SEED_REEL
    return Profile.model_validate_json(definition)


@dataclass(frozen=True)
class ChosenProfile:
    """The profile an upload asked for: its name and the definition to store with the job."""

    name: str
    definition: str


SEED_CHOICE = ChosenProfile(DEFAULT_PROFILE, "")  # no definition stored: the seed's reel


class UnknownProfile(ValueError):
    """An upload named a profile the file does not define (the API answers 400)."""


def choose(name: str | None, path: Path | None = None) -> ChosenProfile:
    """The named profile (None or empty: the default), or UnknownProfile listing the known."""
    profiles = load_profiles(path)
    wanted = (name or "").strip() or DEFAULT_PROFILE
    if wanted not in profiles:
        known = ", ".join(profiles)
        raise UnknownProfile(f"Unknown profile {wanted[:40]!r}; known profiles: {known}")
    return ChosenProfile(wanted, definition_of(profiles[wanted]))
