"""Generic tus clients for the tests — tuspy (Python) and tus-js-client (Node) — plus a TCP proxy
that cuts a connection after N bytes, to resume as a phone that lost signal would."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tusclient import client as tus_client

from tests.api_client import Api

CLIENTS = Path(__file__).resolve().parent / "clients"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tuspy_upload(base_url: str, auth: dict[str, str], path: Path, title: str, chunk: int,
                 url: str | None = None) -> str:  # fmt: skip
    """Upload (or resume, given the upload's url) with tuspy; returns the upload's URL."""
    client = tus_client.TusClient(base_url + "/api/uploads", headers=auth)
    uploader = client.uploader(str(path), chunk_size=chunk, url=url,
                               metadata={"title": title, "filename": path.name})  # fmt: skip
    uploader.upload()
    return str(uploader.url)


def node_upload(base_url: str, token: str, path: Path, title: str, chunk: int) -> str:
    """tus-js-client in a Node process; returns the upload's URL."""
    node = shutil.which("node")
    assert node, "Node.js is required for the tus-js-client tests (scripts/bootstrap.sh test)"
    assert (CLIENTS / "node_modules" / "tus-js-client").exists(), "run scripts/bootstrap.sh test"
    result = subprocess.run([node, str(CLIENTS / "tus-upload.mjs"), base_url + "/api/uploads", token,
                             str(path), title, str(chunk)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def resume_in_new_process(base_url: str, auth: dict[str, str], path: Path, url: str,
                          chunk: int) -> None:  # fmt: skip
    """A fresh client process resumes the upload at `url` from the server's offset."""
    code = (
        "import sys, json; from pathlib import Path; from tests.tus_clients import tuspy_upload;"
        "a = json.loads(sys.argv[2]);"
        "tuspy_upload(sys.argv[1], a, Path(sys.argv[3]), 'resumed', int(sys.argv[5]), url=sys.argv[4])"
    )
    import json

    result = subprocess.run([sys.executable, "-c", code, base_url, json.dumps(auth), str(path), url,
                             str(chunk)], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def video_of(api: Api, auth: dict[str, str], url: str) -> int:
    path = "/" + url.split("/", 3)[3] if url.startswith("http") else url
    status = api.http.get(path, headers=auth).json()
    assert status["complete"] is True and status["video_id"], status
    return int(status["video_id"])


def original_bytes(api: Api, auth: dict[str, str], video_id: int) -> bytes:
    response = api.http.get(f"/api/videos/{video_id}/file?variant=original", headers=auth,
                            follow_redirects=True)  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    return response.content


@dataclass
class CutProxy:
    """127.0.0.1:port → target; the client→server direction is cut after `cut_after` bytes (once:
    later connections pass untouched). `sent` counts what went upstream on every connection."""

    target_port: int
    cut_after: int
    bytes_per_second: int = 0  # > 0: the client→server direction is throttled to this
    sent: int = 0
    cut: bool = False
    server: socket.socket = field(default_factory=socket.socket)

    def __post_init__(self) -> None:
        self.open: list[socket.socket] = []
        self.severed = False
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if self.severed:
                    raise OSError("severed")
                if counted and not self.cut and self.sent + len(data) >= self.cut_after:
                    dst.sendall(data[: self.cut_after - self.sent])
                    self.sent, self.cut = self.cut_after, True
                    raise OSError("cut")
                dst.sendall(data)
                if counted:
                    self.sent += len(data)
                    if self.bytes_per_second:
                        time.sleep(len(data) / self.bytes_per_second)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def sever(self) -> None:
        """The network dies now: every open connection is dropped, and nothing more is
        forwarded from them (not even what the kernel still holds for them)."""
        self.severed = True
        for s in self.open:
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
        self.open.clear()
        self.severed = False

    def close(self) -> None:
        self.server.close()
