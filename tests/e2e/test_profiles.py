"""Output profiles chosen per upload (core/profiles.py), made by the real worker and FFmpeg and
checked with ffprobe and FFmpeg's own EBU R128 meter: `reel` stays the default and unchanged,
`mp4` keeps the whole video at the source's size (never upscaled, short side ≤ 1080) with its
sound normalised to -16 LUFS; an unknown profile is a 400 naming the known ones."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.api_client import Api
from tests.media import ffprobe, integrated_lufs, make_clip, video_stream


def _download(api: Api, auth: dict[str, str], url: str, dest: Path) -> dict:  # type: ignore[type-arg]
    response = api.http.get(url, headers=auth)
    assert response.status_code == 200
    dest.write_bytes(response.content)
    return ffprobe(dest)


def test_profiles_are_listed_with_what_each_makes(api: Api) -> None:
    response = api.http.get("/api/profiles")
    assert response.status_code == 200
    profiles = {p["name"]: p for p in response.json()}
    assert {"reel", "mp4"} <= set(profiles)
    assert profiles["reel"]["default"] and not profiles["mp4"]["default"]
    reel, mp4 = profiles["reel"]["definition"], profiles["mp4"]["definition"]
    assert (reel["trim"], reel["frame"], reel["bumpers"], reel["audio"]) == (
        True,
        "fit",
        True,
        "drop",
    )
    assert (mp4["frame"], mp4["audio"], mp4["loudness_lufs"]) == ("source", "normalise", -16.0)


def test_mp4_keeps_the_whole_video_its_size_and_normalised_sound(
    api: Api, clip_1080p_sound: Path, tmp_path: Path
) -> None:
    clip = clip_1080p_sound
    auth = api.user()
    video = api.processed_with(auth, clip, "mp4")
    assert video["profile"] == "mp4"
    info = _download(api, auth, video["processed_url"], tmp_path / "mp4.mp4")
    stream = video_stream(info)
    assert (stream["width"], stream["height"], stream["codec_name"]) == (1920, 1080, "h264")
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert [(a["codec_name"], a["channels"], a["sample_rate"]) for a in audio] == [
        ("aac", 2, "48000")
    ]
    assert float(info["format"]["duration"]) == pytest.approx(10, abs=0.3)  # no trim, no bumpers
    assert integrated_lufs(tmp_path / "mp4.mp4") == pytest.approx(-16, abs=1.0)
    thumb = api.http.get(video["thumbnail_url"], headers=auth)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"


def test_mp4_never_upscales_and_a_silent_source_gets_no_audio_track(
    api: Api, clip_small: Path, media: Path, tmp_path: Path
) -> None:
    auth = api.user()
    video = api.processed_with(auth, clip_small, "mp4")  # 320×240, no sound
    info = _download(api, auth, video["processed_url"], tmp_path / "small.mp4")
    assert (video_stream(info)["width"], video_stream(info)["height"]) == (320, 240)
    assert [s for s in info["streams"] if s["codec_type"] == "audio"] == []

    portrait = make_clip(media / "portrait-1440x2560.mp4", seconds=2, width=1440, height=2560)
    video = api.processed_with(auth, portrait, "mp4")
    info = _download(api, auth, video["processed_url"], tmp_path / "portrait.mp4")
    assert (video_stream(info)["width"], video_stream(info)["height"]) == (1080, 1920)


def test_the_reel_stays_the_default(api: Api, clip_5s: Path, tmp_path: Path) -> None:
    auth = api.user()
    video = api.processed_with(auth, clip_5s, None)
    assert video["profile"] == "reel"
    info = _download(api, auth, video["processed_url"], tmp_path / "reel.mp4")
    assert (video_stream(info)["width"], video_stream(info)["height"]) == (1280, 720)
    assert [s for s in info["streams"] if s["codec_type"] == "audio"] == []


def test_an_unknown_profile_is_a_400_naming_the_known_ones(api: Api, clip_small: Path) -> None:
    auth = api.user()
    with clip_small.open("rb") as f:
        response = api.http.post("/api/videos/upload", headers=auth,
                                 data={"title": "x", "profile": "8k-hdr"},
                                 files={"video_file": (clip_small.name, f, "video/mp4")})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["detail"] == "Unknown profile '8k-hdr'; known profiles: reel, mp4, hls"
    assert api.http.get("/api/videos", headers=auth).json() == []  # nothing recorded

    metadata = "title " + base64.b64encode(b"x").decode() + ",profile " + base64.b64encode(
        b"8k-hdr").decode()  # fmt: skip
    created = api.http.post("/api/uploads", headers={**auth, "Tus-Resumable": "1.0.0",
                            "Upload-Length": "100", "Upload-Metadata": metadata})  # fmt: skip
    assert created.status_code == 400
    assert created.json()["detail"].startswith("Unknown profile '8k-hdr'")


def test_a_tus_upload_carries_its_profile_to_the_job(api: Api, clip_small: Path) -> None:
    auth = api.user()
    data = clip_small.read_bytes()
    metadata = "title " + base64.b64encode(b"tus mp4").decode() + ",profile " + base64.b64encode(
        b"mp4").decode()  # fmt: skip
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    created = api.http.post("/api/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                      "Upload-Metadata": metadata})  # fmt: skip
    assert created.status_code == 201, created.text
    done = api.http.patch(created.headers["location"], content=data, headers={
        **tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert done.status_code == 204, done.text
    videos = api.http.get("/api/videos", headers=auth).json()
    assert [v["profile"] for v in videos] == ["mp4"]
    assert api.wait_for(auth, videos[0]["video_id"])["status"] == "processed"
