"""Servers die with whoever started them: a SIGKILLed devstack, test session or benchmark
leaves nothing running within 5 s. Each server gets a small guard process that Linux signals
when its parent dies (PR_SET_PDEATHSIG); the guard then stops the server the way it is always
stopped: its whole process group (SIGTERM, SIGKILL 3 s later: a server and its workers —
uvicorn, gunicorn's, Celery's pool), one process, or `pg_ctl stop` for Postgres, which
daemonizes. The guard arms itself (no preexec_fn: forking from a threaded parent stays safe)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

# argv: the parent's pid, then the command to run when it dies (or when dismissed with TERM).
_GUARD = """
import ctypes, os, signal, subprocess, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() == int(sys.argv[1]):  # else the parent died before the signal was armed
    signal.sigwait({signal.SIGTERM})
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
"""


def guard(command: list[str]) -> subprocess.Popen[bytes] | None:
    """A process that runs `command` when this one dies. Linux ties the death signal to the
    *thread* that forked the guard, so only the main thread starts guards (one a helper thread
    started would fire when that thread ends)."""
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    return subprocess.Popen([sys.executable, "-c", _GUARD, str(os.getpid()), *command],
                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def group_guard(pgid: int, grace: float = 3.0) -> subprocess.Popen[bytes] | None:
    """A guard for a process group: SIGTERM to all of it, SIGKILL `grace` seconds later."""
    return guard(["sh", "-c", f"kill -TERM -{pgid}; sleep {grace}; kill -KILL -{pgid}"])


def dismiss(process: subprocess.Popen[bytes] | None) -> None:
    """The guarded server was stopped normally: the guard goes without running its command."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
