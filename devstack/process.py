"""One managed child process: its own session (so a stop reaches its whole group), a log file or
the console, a guard that stops it if its starter dies (devstack/lifeline.py), a graceful stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.lifeline import dismiss, group_guard

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Process:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    console: bool = False  # write to our terminal instead of the log file (`make run`)
    cwd: Path = REPO  # the checkout whose code runs (bench/cpu.py compares two)
    guard: subprocess.Popen[bytes] | None = None  # stops its group if we die (lifeline.py)

    def start(self) -> Process:
        if self.console:
            self.proc = subprocess.Popen(
                self.cmd, cwd=self.cwd, env=self.env, start_new_session=True
            )
            self._guard()
            return self
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        out.close()
        self._guard()
        return self

    def _guard(self) -> None:
        """Its group goes if whoever started it dies (devstack/lifeline.py)."""
        assert self.proc is not None
        dismiss(self.guard)
        self.guard = group_guard(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would — also when its
        leader already died and left members behind."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        dismiss(self.guard)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        self.terminate()
        self.finish(time.monotonic() + timeout)

    def terminate(self) -> None:
        """SIGTERM to its group; `finish` waits. (A stack signals all, then waits for all.)"""
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def finish(self, deadline: float) -> None:
        """Wait for it until `deadline`, then SIGKILL its group."""
        if self.proc is not None:
            try:
                self.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        dismiss(self.guard)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
