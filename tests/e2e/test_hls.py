"""The `hls` profile end to end (real worker, real FFmpeg): an adaptive ladder never above the
source, ~4 s fMP4 segments with keyframes on the same instants in every rendition, normalised
sound in a shared audio group — parsed with a real HLS parser (m3u8), every URI in it downloaded
through its signed playback link, and links that cannot be widened to another video or file."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urljoin

import m3u8
import pytest

from devstack.servers import wait_until
from devstack.stack import Stack
from tests.api_client import Api
from tests.media import integrated_lufs, make_clip

TARGET = 4.0


def _get(api: Api, url: str) -> bytes:
    response = api.http.get(url, follow_redirects=True)  # S3 answers 307 to a presigned URL
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return response.content


def _tree(api: Api, master_url: str, dest: Path) -> dict[str, Path]:
    """Every rendition (and audio) as one file: its init segment + media segments, in order."""
    master = m3u8.loads(_get(api, master_url).decode(), uri=master_url)
    assert master.is_variant
    base = str(api.http.base_url)
    media = {p.uri.split("/")[0]: urljoin(base + master_url, p.uri) for p in master.playlists}
    media |= {m.uri.split("/")[0]: urljoin(base + master_url, m.uri) for m in master.media if m.uri}
    files = {}
    for name, url in media.items():
        playlist = m3u8.loads(_get(api, url).decode(), uri=url)
        assert playlist.playlist_type == "vod" and playlist.is_endlist
        durations = [s.duration for s in playlist.segments]
        assert all(abs(d - TARGET) <= 0.5 for d in durations[:-1]), (name, durations)
        assert 0 < durations[-1] <= TARGET + 0.5
        out = dest / f"{name}.mp4"
        with out.open("wb") as f:
            f.write(_get(api, urljoin(url, playlist.segment_map[0].uri)))
            for segment in playlist.segments:
                f.write(_get(api, urljoin(url, segment.uri)))
        files[name] = out
    return files


def _keyframes(path: Path) -> list[float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
         "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    times = [float(line.split(",")[0]) for line in out.split() if line.split(",")[0]]
    return [round(t - times[0], 2) for t in times]  # from the first frame's time


def test_a_ladder_of_aligned_renditions_with_normalised_sound(
    api: Api, clip_1080p_sound: Path, tmp_path: Path
) -> None:
    clip = clip_1080p_sound
    auth = api.user()
    video = api.processed_with(auth, clip, "hls")
    assert video["profile"] == "hls"
    outputs = {o["name"]: o for o in video["outputs"]}
    assert {n: (o["width"], o["height"]) for n, o in outputs.items() if o["kind"] == "hls"
            and n != "master"} == {"1080p": (1920, 1080), "720p": (1280, 720),
                                   "480p": (854, 480), "360p": (640, 360)}  # fmt: skip
    assert all("avc1." in o["codecs"] and "mp4a.40.2" in o["codecs"] and o["bitrate"] > 0
               for n, o in outputs.items() if o["kind"] == "hls" and n != "master")  # fmt: skip
    assert (
        video["processed_url"].endswith("/master.m3u8")
        and video["processed_url"] == (outputs["master"]["url"].split("?")[0])
    )
    master = m3u8.loads(_get(api, video["processed_url"]).decode())
    for playlist in master.playlists:
        info = playlist.stream_info
        assert info.bandwidth > 0 and info.resolution and "avc1" in info.codecs
    files = _tree(api, video["processed_url"], tmp_path)
    assert set(files) == {"1080p", "720p", "480p", "360p", "audio"}
    keyframes = {name: _keyframes(path) for name, path in files.items() if name != "audio"}
    assert len(set(map(tuple, keyframes.values()))) == 1, keyframes  # switchable anywhere
    assert keyframes["720p"][:3] == [0.0, 4.0, 8.0]
    assert integrated_lufs(files["audio"]) == pytest.approx(-16, abs=1.0)


def test_a_phone_clip_and_a_4k_clip_are_never_upscaled_and_keep_their_shape(
    api: Api, media: Path, tmp_path: Path
) -> None:
    coded = make_clip(media / "phone-coded.mp4", seconds=2, width=1280, height=720)
    phone = media / "phone-rotated.mp4"  # recorded sideways: a display matrix turns it upright
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(coded), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(phone)], check=True, timeout=60)  # fmt: skip
    auth = api.user()
    video = api.processed_with(auth, phone, "hls")
    sizes = {o["name"]: (o["width"], o["height"]) for o in video["outputs"]
             if o["kind"] == "hls" and o["name"] != "master"}  # fmt: skip
    assert sizes == {"720p": (720, 1280), "480p": (480, 854), "360p": (360, 640)}

    uhd = make_clip(media / "clip-1s-4k.mp4", seconds=1, width=3840, height=2160, fps=15)
    video = api.processed_with(auth, uhd, "hls")
    sizes = {
        o["name"]: (o["width"], o["height"])
        for o in video["outputs"]
        if o["kind"] == "hls" and o["name"] != "master"
    }
    assert sizes == {
        "1080p": (1920, 1080),
        "720p": (1280, 720),
        "480p": (854, 480),
        "360p": (640, 360),
    }


def test_playback_links_open_only_their_own_video_tree(api: Api, clip_small: Path) -> None:
    owner, other = api.user(), api.user()
    video = api.processed_with(owner, clip_small, "hls")
    detail = api.http.get(f"/api/videos/{video['video_id']}", headers=other)
    assert detail.status_code == 403 and "outputs" not in detail.json()  # the seed's answer
    playlist = api.http.get(f"/api/videos/{video['video_id']}/file", headers=other)
    assert playlist.status_code == 404  # no link for another user
    master_url = video["processed_url"]
    assert _get(api, master_url).startswith(b"#EXTM3U")  # no Authorization header needed
    segment = master_url.rsplit("/", 1)[0] + "/360p/seg-00000.m4s"
    part = api.http.get(segment, headers={"Range": "bytes=0-99"})  # local storage: the API
    assert part.status_code == 206 and len(part.content) == 100
    link = master_url.split("/")[3]
    video_id, expires, signature = link.split(".")
    for forged in (
        f"{int(video_id) + 1}.{expires}.{signature}",  # another video
        f"{video_id}.{int(expires) + 3600}.{signature}",  # a longer life
        f"{video_id}.{expires}.{signature[:-2]}AA",
    ):  # a guessed signature
        assert api.http.get(f"/api/play/{forged}/master.m3u8").status_code == 404
    for path in ("../../../etc/passwd", "360p/../../original", "360p/index.m3u8/..",
                 "thumbnail.jpg", "9999p/index.m3u8", "360p/seg-1.ts"):  # fmt: skip
        assert api.http.get(f"/api/play/{link}/{path}").status_code == 404, path
    assert api.http.delete(f"/api/videos/{video['video_id']}", headers=owner).status_code == 200
    assert api.http.get(master_url).status_code == 404  # deleted: its links die with it


def test_a_published_hls_video_plays_for_anyone(api: Api, clip_small: Path) -> None:
    owner = api.user()
    video = api.processed_with(owner, clip_small, "hls")
    published = api.http.post(f"/api/videos/{video['video_id']}/publish", headers=owner)
    assert published.status_code == 200
    listed = api.http.get("/api/public/videos", params={"limit": 100}).json()
    (mine,) = [v for v in listed if v["video_id"] == video["video_id"]]
    assert mine["processed_url"].startswith("/api/play/")  # a fresh link, no account needed
    assert _get(api, mine["processed_url"]).startswith(b"#EXTM3U")


def test_a_ladder_cancelled_midway_leaves_no_output(api: Api, pg_stack: Stack, media: Path) -> None:
    clip = make_clip(media / "ladder-20s.mp4", seconds=20, width=1280, height=720, fps=15)
    owner = api.user()
    outcomes = "reelforge_worker_outcomes_total"
    before = pg_stack.worker_metric(outcomes, outcome="cancelled")
    with clip.open("rb") as f:
        video_id = api.http.post(
            "/api/videos/upload",
            headers=owner,
            data={"title": "cut", "profile": "hls"},
            files={"video_file": (clip.name, f, "video/mp4")},
        ).json()["video_id"]
    api.wait_for(owner, video_id, statuses=("processing",), timeout=60)
    assert api.http.delete(f"/api/videos/{video_id}", headers=owner).status_code == 200
    wait_until(
        lambda: pg_stack.worker_metric(outcomes, outcome="cancelled") > before,
        20,
        "the worker to stop the deleted ladder",
    )
    assert not (pg_stack.storage_dir / "outputs" / str(video_id)).exists()
    assert list(pg_stack.temp_dir("worker").glob(f"reelforge-job-*-{video_id}-*")) == []
