"""One devstack per checkout (devstack/running.py): a live one is named, a dead one's pidfile is
taken over, and the pidfile goes with the process that wrote it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack import running
from devstack.servers import wait_until


def test_a_running_devstack_is_named_and_a_dead_one_is_taken_over(tmp_path: Path) -> None:
    pidfile = tmp_path / "devstack-run.pid"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "devstack"])
    wait_until(lambda: b"devstack" in Path(f"/proc/{other.pid}/cmdline").read_bytes(), 10,
               "the stand-in devstack to exec")  # fmt: skip
    try:
        pidfile.write_text(str(other.pid))
        assert running.claim(pidfile) == other.pid  # still running: say which
        assert pidfile.read_text() == str(other.pid)
    finally:
        other.kill()
        other.wait()
    assert running.claim(pidfile) is None  # its process is gone: this one takes over
    assert pidfile.read_text() == str(os.getpid())
    running.release(pidfile)
    assert not pidfile.exists()


def test_a_pid_reused_by_another_program_does_not_block(tmp_path: Path) -> None:
    pidfile = tmp_path / "devstack-run.pid"
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pidfile.write_text(str(stranger.pid))
        assert running.claim(pidfile) is None
    finally:
        stranger.kill()
        stranger.wait()
