"""What a job made, as files to upload and as the manifest the API shows (`outputs` on the video):
an MP4 or an HLS tree (master + one folder per rendition, + audio/), and the thumbnail. Keys live
under the attempt's prefix (core/storage: outputs/<video>/attempt-<n>/), so deleting the job's
prefix deletes everything any attempt made."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.storage import output_keys, outputs_prefix
from worker.media.ladder import MASTER, Rendition

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
}
AVC_PROFILES = {"Baseline": 0x42, "Constrained Baseline": 0x42, "Main": 0x4D, "High": 0x64}


@dataclass
class Made:
    main_key: str  # processed_key: the MP4, or the HLS master playlist
    thumbnail_key: str
    files: list[tuple[Path, str, str]] = field(default_factory=list)  # local file, key, type
    manifest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.main_key.rsplit("/", 1)[0]


def attempt_prefix(video_id: int, attempt: int) -> str:
    return f"{outputs_prefix(video_id)}/attempt-{attempt}"


def codecs_of(probe_data: dict[str, Any]) -> str:
    """RFC 6381 codec names of an MP4 (H.264 video, AAC audio), as HLS and MSE want them."""
    names = []
    for stream in probe_data.get("streams") or []:
        if stream.get("codec_name") == "h264":
            profile = AVC_PROFILES.get(str(stream.get("profile")), 0x64)
            names.append(f"avc1.{profile:02x}00{int(stream.get('level') or 0):02x}")
        elif stream.get("codec_name") == "aac":
            names.append("mp4a.40.2")
    return ",".join(names)


def mp4_made(
    video_id: int, attempt: int, files: tuple[Path, Path], probe_data: dict[str, Any]
) -> Made:
    output, thumb = files
    processed_key, thumbnail_key = output_keys(video_id, attempt)
    video = next(s for s in probe_data.get("streams") or [] if s.get("codec_type") == "video")
    bitrate = int((probe_data.get("format") or {}).get("bit_rate") or 0)
    made = Made(processed_key, thumbnail_key)
    made.files = [
        (output, processed_key, CONTENT_TYPES[".mp4"]),
        (thumb, thumbnail_key, CONTENT_TYPES[".jpg"]),
    ]
    made.manifest = [
        {
            "kind": "mp4",
            "name": "mp4",
            "key": processed_key,
            "width": video.get("width"),
            "height": video.get("height"),
            "bitrate": bitrate,
            "codecs": codecs_of(probe_data),
        },
        {"kind": "thumbnail", "name": "thumbnail", "key": thumbnail_key},
    ]
    return made


def hls_made(
    video_id: int, attempt: int, out_dir: Path, thumb: Path, plan: list[Rendition]
) -> Made:
    base = f"{attempt_prefix(video_id, attempt)}/hls"
    _, thumbnail_key = output_keys(video_id, attempt)
    made = Made(f"{base}/{MASTER}", thumbnail_key)
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(out_dir).as_posix()
        made.files.append(
            (path, f"{base}/{relative}", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        )
    made.files.append((thumb, thumbnail_key, CONTENT_TYPES[".jpg"]))
    variants = _variants((out_dir / MASTER).read_text())
    made.manifest = [{"kind": "hls", "name": "master", "key": made.main_key}]
    for rendition in plan:
        bandwidth, codecs = variants.get(f"{rendition.name}/index.m3u8", (0, ""))
        made.manifest.append(
            {
                "kind": "hls",
                "name": rendition.name,
                "key": f"{base}/{rendition.name}/index.m3u8",
                "width": rendition.width,
                "height": rendition.height,
                "bitrate": bandwidth,
                "codecs": codecs,
            }
        )
    made.manifest.append({"kind": "thumbnail", "name": "thumbnail", "key": thumbnail_key})
    return made


def _variants(master: str) -> dict[str, tuple[int, str]]:
    """uri → (BANDWIDTH, CODECS) of each EXT-X-STREAM-INF in the master playlist FFmpeg wrote."""
    found: dict[str, tuple[int, str]] = {}
    lines = master.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("#EXT-X-STREAM-INF:"):
            bandwidth = re.search(r"BANDWIDTH=(\d+)", line)
            codecs = re.search(r'CODECS="([^"]*)"', line)
            found[lines[i + 1].strip()] = (
                int(bandwidth.group(1)) if bandwidth else 0,
                codecs.group(1) if codecs else "",
            )
    return found
