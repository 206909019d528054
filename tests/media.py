"""Test inputs made by FFmpeg itself, so the suite ships no binary fixtures."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path


def make_clip(
    path: Path, *, seconds: float, width: int, height: int, fps: int = 30, audio: bool = True
) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
           "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}"]  # fmt: skip
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p"]
    cmd += ["-shortest", str(path)] if audio else [str(path)]
    subprocess.run(cmd, check=True, timeout=180)
    return path


def ffprobe(path: Path) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return json.loads(out)  # type: ignore[no-any-return]


def video_stream(info: dict) -> dict:  # type: ignore[type-arg]
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def make_noise_clip(
    path: Path, *, seconds: float = 2, size: str = "640x360", crf: int = 14
) -> Path:
    """Random pixels barely compress: a short, real, valid video of several MiB (S3 parts)."""
    if not path.exists():
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
               f"nullsrc=s={size}:r=30:d={seconds},geq=random(1)*255:128:128", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p", str(path)]  # fmt: skip
        subprocess.run(cmd, check=True, timeout=180)
    return path


def integrated_lufs(path: Path) -> float:
    """FFmpeg's EBU R128 meter (ebur128) on the file's first sound track: integrated loudness."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stderr  # fmt: skip
    summary = out[out.rindex("Summary:") :]
    match = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    assert match, summary
    return float(match.group(1))
