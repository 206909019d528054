"""Moving bytes: a resumable upload (tus 1.0, resumed after Ctrl-C by running the same command
again; a plain multipart POST when the server has no tus) and a download that resumes with Range.

The tus client is these few requests on httpx rather than tuspy: tuspy reports progress once per
PATCH, and a PATCH here is the whole rest of the file (the fastest way through the server), so the
bar is fed as httpx reads the body instead. Where an interrupted upload stands is kept in the
config dir (uploads.json), keyed by server, path, size and modification time."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from cli.session import CliError, Session, config_dir, detail_of, request

TUS = {"Tus-Resumable": "1.0.0"}
READ_BYTES = 256 * 1024
LOCKED_WAIT_SECONDS = 30.0  # a cut PATCH holds its upload until the server notices the cut
NETWORK_RETRIES = 5  # dropped connections in a row before giving up (backoff 1, 2, 4, 8, 10 s)
Advance = Callable[[int], None]


class ResumeStore:
    def __init__(self) -> None:
        self.path = config_dir() / "uploads.json"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def put(self, key: str, url: str | None) -> None:
        data = self._load()
        if url is None:
            data.pop(key, None)
        else:
            data[key] = url
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.write_text(json.dumps(data, indent=1))


def fingerprint(server: str, path: Path) -> str:
    stat = path.stat()
    return f"{server}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _read(f: BinaryIO, advance: Advance) -> Iterator[bytes]:
    while chunk := f.read(READ_BYTES):
        yield chunk
        advance(len(chunk))


class Uploader:
    """`start(total, done)` is called once the starting offset is known; `advance(n)` per piece."""

    def __init__(self, session: Session, start: Callable[[int, int], None], advance: Advance):
        self.session, self.start, self.advance = session, start, advance
        self.store = ResumeStore()

    def upload(self, path: Path, title: str, profile: str | None = None) -> int:
        """The video id of the job the upload became (`profile`: the output profile's name)."""
        if not path.is_file():
            raise CliError(f"No such file: {path}")
        key = fingerprint(self.session.server, path)
        size = path.stat().st_size
        with self.session.client() as http:
            url = self.store.get(key)
            offset = self._offset(http, url) if url else None
            if url is None or offset is None:
                metadata = f"title {_b64(title)},filename {_b64(path.name)}"
                if profile:
                    metadata += f",profile {_b64(profile)}"
                created = http.post(
                    "/api/uploads",
                    headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": metadata},
                )
                if created.status_code in (404, 405):  # no tus on this server: one multipart POST
                    return self._multipart(http, path, {"title": title, "profile": profile}, size)
                if created.status_code >= 400:
                    raise CliError(detail_of(created))
                url, offset = created.headers["Location"], 0
                self.store.put(key, url)
            self.start(size, offset)
            video_id = self._send(http, url, path, offset, size)
        self.store.put(key, None)
        return video_id

    def _offset(self, http: httpx.Client, url: str) -> int | None:
        """Where the server's copy ends; None when the upload is gone (expired, terminated)."""
        head = http.head(url, headers=TUS)
        if head.status_code in (403, 404, 410):
            return None
        if head.status_code >= 400:
            raise CliError(detail_of(head))
        return int(head.headers["Upload-Offset"])

    def _send(self, http: httpx.Client, url: str, path: Path, offset: int, size: int) -> int:
        """PATCH the rest of the file; after a dropped connection, or while the server still
        holds the cut request (423) or has moved on (409), ask where it stands and go on."""
        failures, waited_since = 0, None
        response = None
        while offset < size or response is None:
            try:
                with path.open("rb") as f:
                    f.seek(offset)
                    response = http.patch(url, content=_read(f, self.advance), headers={
                        **TUS, "Upload-Offset": str(offset), "Content-Length": str(size - offset),
                        "Content-Type": "application/offset+octet-stream"},
                        timeout=httpx.Timeout(30.0, write=None))  # fmt: skip
            except httpx.TransportError as exc:
                failures += 1
                if failures > NETWORK_RETRIES:
                    raise CliError(f"The connection keeps failing ({exc}); run the same command "
                                   "again to resume") from None  # fmt: skip
                time.sleep(min(2 ** (failures - 1), 10))
                offset, response = self._resume_point(http, url, size), None
                continue
            if response.status_code in (409, 423):
                waited_since = waited_since or time.monotonic()
                if time.monotonic() - waited_since > LOCKED_WAIT_SECONDS:
                    raise CliError(detail_of(response))
                time.sleep(0.5)
                offset, response = self._resume_point(http, url, size), None
                continue
            if response.status_code >= 400:
                raise CliError(detail_of(response))
            offset, failures = int(response.headers["Upload-Offset"]), 0
        video = response.headers.get("X-Video-ID")
        if video is None:  # the job is made by the last PATCH; ask the upload resource
            video = request(http, "GET", url).json()["video_id"]
        return int(video)

    def _resume_point(self, http: httpx.Client, url: str, size: int) -> int:
        """The server's offset (HEAD), retried with backoff while the network is down."""
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                offset = self._offset(http, url)
            except httpx.TransportError:
                time.sleep(min(2**attempt, 10))
                continue
            if offset is None:
                raise CliError("The upload expired on the server: run the command again")
            self.start(size, offset)
            return offset
        raise CliError("Cannot reach the server: run the same command again to resume")

    def _multipart(
        self, http: httpx.Client, path: Path, fields: dict[str, str | None], size: int
    ) -> int:
        self.start(size, 0)
        advance = self.advance

        class Counting:
            def __init__(self, f: BinaryIO) -> None:
                self.f = f

            def read(self, n: int = -1) -> bytes:
                data = self.f.read(n)
                advance(len(data))
                return data

        with path.open("rb") as f:
            response = request(
                http,
                "POST",
                "/api/videos/upload",
                data={k: v for k, v in fields.items() if v},
                files={"video_file": (path.name, Counting(f), "video/mp4")},
                timeout=httpx.Timeout(30.0, write=None),
            )
        return int(response.json()["video_id"])


def download(
    session: Session,
    video_id: int,
    variant: str,
    out: Path,
    start: Callable[[int, int], None],
    advance: Advance,
) -> Path:
    """To `out`, through `out.part`: an interrupted download continues with Range."""
    part = out.with_name(out.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    path = f"/api/videos/{video_id}/file"
    query = {"variant": variant}
    with (
        session.client() as http,
        http.stream("GET", path, params=query, headers=headers, follow_redirects=True) as r,
    ):
        if r.status_code == 416 and have:  # the .part is already whole
            part.replace(out)
            return out
        if r.status_code >= 400:
            r.read()
            raise CliError(detail_of(r))
        if r.status_code == 200:
            have = 0  # the server ignored the range: start over
        start(have + int(r.headers.get("content-length", 0)), have)
        with part.open("ab" if have else "wb") as f:
            for chunk in r.iter_bytes(READ_BYTES):
                f.write(chunk)
                advance(len(chunk))
    part.replace(out)
    return out
