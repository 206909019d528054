"""One `make run` (or `make stack`) per checkout: a second one says which is running and exits
non-zero, instead of starting servers that then fail on a busy port."""

from __future__ import annotations

import os
from pathlib import Path


def _alive_devstack(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"devstack" in cmdline


def claim(pidfile: Path) -> int | None:
    """Record this process as the running one; or the pid of the one already running."""
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    try:
        other = int(pidfile.read_text().strip() or 0)
    except (OSError, ValueError):
        other = 0
    if other and other != os.getpid() and _alive_devstack(other):
        return other
    pidfile.write_text(str(os.getpid()))
    return None


def release(pidfile: Path) -> None:
    try:
        if pidfile.read_text().strip() == str(os.getpid()):
            pidfile.unlink()
    except OSError:
        pass
