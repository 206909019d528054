"""The commands about what a job made: download an output (a file, or an hls tree into a
folder) and list the output profiles an upload may choose."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import render
from cli.hls import download_tree
from cli.options import Json, VideoArg, session
from cli.session import CliError
from cli.transfer import download


def register_output_commands(app: typer.Typer) -> None:
    app.command("download")(download_cmd)
    app.command("profiles")(list_profiles)


def download_cmd(
    video: VideoArg,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            help="processed, original, thumbnail; for an hls video "
            "hls (the whole tree) or one rendition, e.g. 720p",
        ),
    ] = "processed",
    to: Annotated[Path | None, typer.Option("-o", "--to", help="File or folder to write")] = None,
    json_: Json = False,
) -> None:
    """Download a video (resumes a cut download with Range); an hls output into a folder.

    Example: reelforge download 42 -o dunk.mp4 · reelforge download 43 --output 720p
    """
    s = session()
    data = s.call("GET", f"/api/videos/{video}")
    hls = any(o["kind"] == "hls" for o in data.get("outputs") or [])
    if hls and output not in ("original", "thumbnail"):
        only = None if output in ("hls", "processed") else output
        folder = to or Path(f"video-{video}-{only or 'hls'}")
        size = download_tree(s, data["processed_url"], folder, only)
        path = folder / "master.m3u8"
    elif output in ("processed", "original", "thumbnail"):
        suffix = "jpg" if output == "thumbnail" else "mp4"
        out = to or Path(f"video-{video}-{output}.{suffix}")
        with render.byte_bar("downloading", quiet=json_) as bar:
            path = download(s, video, output, out, bar.start, bar.advance)
        size = path.stat().st_size
    else:
        raise CliError(
            "--output must be processed, original or thumbnail (or, for an hls "
            "video, hls or a rendition)"
        )
    if json_:
        return render.emit_json(
            {"video_id": video, "output": output, "path": str(path), "bytes": size}
        )
    render.out.print(f"Saved {path} ({size} bytes)")


def list_profiles(json_: Json = False) -> None:
    """The output profiles an upload may choose (--profile), and what each makes.

    Example: reelforge profiles
    """
    profiles = session().call("GET", "/api/profiles", auth=False)
    if json_:
        return render.emit_json(profiles)
    rows = [
        {
            "name": p["name"] + (" (default)" if p["default"] else ""),
            "description": p["definition"]["description"],
        }
        for p in profiles
    ]
    render.table(rows, ["name", "description"])
