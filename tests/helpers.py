"""Helpers the test modules share: a port that must stay silent, and reads of a stack's state
(the database row, the outputs in storage, its FFmpeg processes)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from devstack.stack import Stack


@contextmanager
def silent_listener() -> Iterator[tuple[int, list[object]]]:
    """A local port that must receive no connection: yields (port, connections seen)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                seen.append(sock.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join()
        sock.close()


def db(stack: Stack) -> psycopg.Connection:
    url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
    return psycopg.connect(url, autocommit=True)


def attempts(stack: Stack, video_id: int) -> int:
    with db(stack) as conn:
        row = conn.execute("SELECT attempts FROM video WHERE id = %s", (video_id,)).fetchone()
    assert row is not None
    return int(row[0])


def output_attempts(stack: Stack, video_id: int) -> list[str]:
    folder = stack.storage_dir / "outputs" / str(video_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def ffmpeg_pids(stack: Stack) -> list[int]:
    """FFmpeg processes working on this stack's files (never the suite's other ones)."""
    marker = str(stack.temp_dir("worker")).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ffmpeg" in cmdline and marker in cmdline:
            pids.append(int(proc.name))
    return pids
