"""Which file a playback link opens, and the playlists it serves. A link opens only its own
video's playback tree — the HLS master, a media playlist or segment of a rendition the video has,
its storyboard (track and sheet) and animated preview — and only while the video is still there.
Segments come from storage directly where it can sign URLs (S3: presigned GETs written into the
media playlist), otherwise from the API with Range."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from core.models import Video, VideoStatus
from core.profiles import HLS_AUDIO as AUDIO_NAME
from core.profiles import HLS_MASTER as MASTER
from core.storage import Storage

PLAYLIST_BYTES = 1024 * 1024
SEGMENT = re.compile(r"^(init(_\d{1,3})?\.mp4|seg-\d{5,6}\.m4s)$")
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
}
GONE = "No such playback link"
# file name → (the manifest kind it belongs to, its media type)
PREVIEWS = {
    "storyboard.vtt": ("storyboard", "text/vtt"),
    "storyboard.jpg": ("storyboard", "image/jpeg"),
    "preview.webp": ("preview", "image/webp"),
}


@dataclass(frozen=True)
class PlaybackFile:
    key: str
    media_type: str
    playlist: bool


async def file_for(session: AsyncSession, video_id: int, path: str) -> PlaybackFile:
    """The storage key `path` names in the video's playback tree, or 404."""
    video = await session.get(Video, video_id)
    if video is None or video.status != VideoStatus.processed or not video.outputs:
        raise NotFound(GONE)
    manifest = json.loads(video.outputs)
    if path in PREVIEWS:
        return _preview(manifest, path)
    names = {o["name"] for o in manifest if o.get("kind") == "hls"}
    if "master" not in names or video.processed_key is None:
        raise NotFound(GONE)
    base = video.processed_key.rsplit("/", 1)[0]
    if path == MASTER:
        return PlaybackFile(f"{base}/{MASTER}", MEDIA_TYPES[".m3u8"], True)
    folder, _, name = path.partition("/")
    if folder == "master" or (folder not in names and folder != AUDIO_NAME):
        raise NotFound(GONE)
    if name == "index.m3u8":
        return PlaybackFile(f"{base}/{folder}/{name}", MEDIA_TYPES[".m3u8"], True)
    if not SEGMENT.match(name):
        raise NotFound(GONE)
    suffix = "." + name.rsplit(".", 1)[1]
    return PlaybackFile(f"{base}/{folder}/{name}", MEDIA_TYPES[suffix], False)


def _preview(manifest: list[dict[str, Any]], path: str) -> PlaybackFile:
    """storyboard.vtt, the sheet it names (storyboard.jpg, beside it) or preview.webp."""
    kind, media_type = PREVIEWS[path]
    item = next((o for o in manifest if o.get("kind") == kind), None)
    if item is None:
        raise NotFound(GONE)
    folder = item["key"].rsplit("/", 1)[0]
    return PlaybackFile(f"{folder}/{path}", media_type, False)


async def playlist(storage: Storage, stored: PlaybackFile) -> str:
    """The playlist's text; on storage that signs URLs, each segment (and EXT-X-MAP) URI is
    replaced by a presigned GET, so the bytes never pass through the API."""
    text = (await anyio.to_thread.run_sync(storage.read_sync, stored.key, PLAYLIST_BYTES)).decode()
    folder = stored.key.rsplit("/", 1)[0]

    def signed(uri: str) -> str:
        if "/" in uri or not SEGMENT.match(uri):
            return uri
        name = uri.rsplit(".", 1)
        url = storage.download_url(f"{folder}/{uri}", uri, MEDIA_TYPES["." + name[1]])
        return url or uri

    lines = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            line = re.sub(r'URI="([^"]+)"', lambda m: f'URI="{signed(m.group(1))}"', line)
        elif line and not line.startswith("#"):
            line = signed(line)
        lines.append(line)
    return "\n".join(lines) + "\n"
