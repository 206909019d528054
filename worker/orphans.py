"""A pool child dies with the Celery main process that forked it (PR_SET_PDEATHSIG), as every
process of a container dies with it: an orphaned child would keep a job's lease alive without a
worker to report to, and keep the sockets it inherited — the metrics port among them, so a new
worker could not start on it. And whether a process of this host still runs: the reconciler ends
the claims of dead ones at once (JobStore.expire_dead_claims)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Called in the child; `parent` is the pid of the process that forked it (read there,
    before the fork: in a container the main process is pid 1, a legitimate parent)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: nothing to do
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the call: go now
        os._exit(1)


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs (a zombie, killed but not yet reaped,
    does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (not Linux): existence is all we can ask
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
