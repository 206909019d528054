"""A video's outputs as clients see them: the manifest the worker stored (worker/outputs.py) with
URLs — the file route for an MP4 and the thumbnail, signed playback links for an HLS tree — and the
main playable URL (`processed_url`: the reel's or mp4's file, the hls master playlist)."""

from __future__ import annotations

import json

from app.playback.tokens import play_url
from app.videos.schemas import VideoOutput, file_url
from core.models import Video
from core.profiles import HLS_MASTER, HLS_MEDIA_PLAYLIST
from core.settings import Settings


def processed_url(settings: Settings, video: Video) -> str | None:
    if not video.processed_key:
        return None
    if video.processed_key.endswith("/" + HLS_MASTER):
        return play_url(settings, video.id, HLS_MASTER)
    return file_url(video.id, "processed")


def outputs_of(settings: Settings, video: Video) -> list[VideoOutput]:
    if not video.processed_key:
        return []
    if not video.outputs:  # processed before outputs were recorded: the reel and its thumbnail
        found = [VideoOutput(kind="mp4", name="mp4", url=file_url(video.id, "processed"))]
        if video.thumbnail_key:
            found.append(
                VideoOutput(kind="thumbnail", name="thumbnail", url=file_url(video.id, "thumbnail"))
            )
        return found
    found = []
    for item in json.loads(video.outputs):
        kind, name = item["kind"], item["name"]
        if kind == "hls":
            path = HLS_MASTER if name == "master" else f"{name}/{HLS_MEDIA_PLAYLIST}"
            url = play_url(settings, video.id, path)
        elif kind in ("storyboard", "preview"):  # through the link: the track's sheet resolves
            url = play_url(settings, video.id, item["key"].rsplit("/", 1)[1])
        else:
            url = file_url(video.id, "thumbnail" if kind == "thumbnail" else "processed")
        details = {k: item.get(k) for k in ("width", "height", "bitrate", "codecs")}
        found.append(VideoOutput(kind=kind, name=name, url=url, **details))
    return found


def preview_url(settings: Settings, video: Video) -> str | None:
    """The animated preview's signed link, when the profile made one (for hover previews)."""
    if not video.processed_key or not video.outputs:
        return None
    for item in json.loads(video.outputs):
        if item["kind"] == "preview":
            return play_url(settings, video.id, item["key"].rsplit("/", 1)[1])
    return None
