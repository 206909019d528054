"""worker/orphans.py: a pool child dies with its parent, whatever the parent's pid (in a
container the Celery main process is pid 1, a legitimate parent); and dead or zombie processes
are told from live ones."""

from __future__ import annotations

import os
import subprocess
import sys

from worker.orphans import process_alive

CHILD = "import os, sys; from worker.orphans import die_with_parent; die_with_parent(int(sys.argv[1])); print('alive')"


def _run_child(parent: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, parent], capture_output=True, text=True,
                          timeout=60, cwd=os.getcwd())  # fmt: skip


def test_a_child_of_the_expected_parent_lives_on() -> None:
    result = _run_child(str(os.getpid()))
    assert result.returncode == 0 and result.stdout.strip() == "alive", result.stderr


def test_a_child_whose_parent_is_already_gone_exits() -> None:
    result = _run_child("999999999")  # not its parent: as if the parent died before the call
    assert result.returncode == 1 and result.stdout == ""


def test_process_alive_tells_live_dead_and_zombie_processes() -> None:
    assert process_alive(os.getpid())
    child = subprocess.Popen(["sleep", "30"])
    assert process_alive(child.pid)
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped: a zombie
    assert not process_alive(child.pid)
    child.wait()
    assert not process_alive(child.pid)
