"""Download an HLS output into a folder that plays offline: master.m3u8, one folder per rendition
(index.m3u8, init and segments) and audio/ — every URI in the saved playlists is the file's own
relative name (the server's are signed links or presigned URLs, which expire). `only` keeps one
rendition (its master lists that rendition alone)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from cli.session import CliError, Session, detail_of


def _get(http: httpx.Client, url: str) -> bytes:
    response = http.get(url, follow_redirects=True)
    if response.status_code >= 400:
        raise CliError(detail_of(response))
    return response.content


def _local(uri: str) -> str:
    return Path(urlsplit(uri).path).name


def _save_media(http: httpx.Client, url: str, folder: Path) -> int:
    """One media playlist and every file it names; returns the bytes saved."""
    folder.mkdir(parents=True, exist_ok=True)
    lines, saved = [], 0
    for line in _get(http, url).decode().splitlines():
        if line.startswith("#EXT-X-MAP:") and 'URI="' in line:
            uri = line.split('URI="', 1)[1].split('"', 1)[0]
            data = _get(http, urljoin(url, uri))
            (folder / _local(uri)).write_bytes(data)
            saved += len(data)
            line = line.replace(uri, _local(uri))
        elif line and not line.startswith("#"):
            data = _get(http, urljoin(url, line))
            (folder / _local(line)).write_bytes(data)
            saved += len(data)
            line = _local(line)
        lines.append(line)
    (folder / "index.m3u8").write_text("\n".join(lines) + "\n")
    return saved


def download_tree(session: Session, master_url: str, dest: Path, only: str | None) -> int:
    """The tree under `dest`; returns the bytes saved. CliError if `only` is not a rendition."""
    with session.client() as http:
        absolute = urljoin(str(http.base_url), master_url)
        master = _get(http, absolute).decode().splitlines()
        kept, names, skip_next = [], [], False
        for i, line in enumerate(master):
            if skip_next:
                skip_next = False
                continue
            if line.startswith("#EXT-X-STREAM-INF:") and i + 1 < len(master):
                name = master[i + 1].split("/")[0]
                names.append(name)
                if only is not None and name != only:
                    skip_next = True
                    continue
            kept.append(line)
        if only is not None and only not in names:
            raise CliError(f"No rendition {only!r}; this video has: {', '.join(names)}")
        saved = 0
        folders = {line.split("/")[0] for line in kept if line.endswith("/index.m3u8")}
        folders |= {line.split('URI="', 1)[1].split("/")[0] for line in kept if 'URI="' in line}
        for folder in sorted(folders):
            saved += _save_media(http, urljoin(absolute, f"{folder}/index.m3u8"), dest / folder)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "master.m3u8").write_text("\n".join(kept) + "\n")
    return saved
