"""The process boundary: run one FFmpeg/ffprobe command, and nothing else.

The runner starts the command in its own process group with `shell=False`, dies with its worker
(PR_SET_PDEATHSIG), caps memory/CPU/files (setrlimit), parses `-progress`, keeps a bounded stderr
tail, enforces a wall-clock and a stall timeout, and always kills the whole group on the way
out. Failures are `FFmpegFailed`, permanent or not.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker.media.errors import FFmpegFailed

PR_SET_PDEATHSIG = 1


@dataclass
class RunResult:
    stdout: str
    stderr_tail: str


@dataclass(frozen=True)
class ResourceLimits:
    """setrlimit values for the FFmpeg child; 0 leaves a limit unset."""

    memory_bytes: int = 0
    cpu_seconds: int = 0
    open_files: int = 0


def _child_setup(limits: ResourceLimits) -> Callable[[], None]:
    def setup() -> None:
        """In the child before exec: die with the worker (even on SIGKILL), and cap resources."""
        with contextlib.suppress(OSError):  # not Linux: the process-group kill still applies
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        for which, value in (
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_NOFILE, limits.open_files),
        ):
            if value > 0:
                resource.setrlimit(which, (value, value))

    return setup


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run(
    args: list[str],
    *,
    timeout: float,
    stall_timeout: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    stderr_lines: int = 20,
    limits: ResourceLimits | None = None,
) -> RunResult:
    """Run one FFmpeg/ffprobe command. `on_progress(seconds_of_output)` may raise (e.g.
    JobCancelled) to stop the run; the process group is killed whatever happens."""
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=_child_setup(limits or ResourceLimits()),
        )  # fmt: skip
    except OSError as exc:
        raise FFmpegFailed(f"Could not start {Path(args[0]).name}: {exc}", permanent=False) from exc
    tail: deque[str] = deque(maxlen=stderr_lines)
    drain = threading.Thread(target=_drain, args=(proc, tail), daemon=True)
    drain.start()
    state = {"last_progress": time.monotonic(), "why_killed": ""}
    watchdog = threading.Thread(
        target=_watch, args=(proc, state, time.monotonic() + timeout, stall_timeout), daemon=True
    )
    watchdog.start()
    stdout: list[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if on_progress is None:
                stdout.append(line)
                continue
            if line.startswith("out_time_us=") and line[12:].lstrip("-").isdigit():
                state["last_progress"] = time.monotonic()
                on_progress(max(0, int(line[12:])) / 1_000_000)
        code = proc.wait()
    finally:
        _kill_group(proc)  # also reaps anything FFmpeg left in its group
        drain.join(timeout=2)
    stderr_tail = "\n".join(tail)
    if state["why_killed"]:
        raise FFmpegFailed(str(state["why_killed"]), permanent=True)
    if code < 0:  # killed by a signal we did not send: a crash or the OOM killer, maybe transient
        raise FFmpegFailed(f"FFmpeg crashed (signal {-code})", permanent=False)
    if code != 0:
        last = tail[-1] if tail else f"exit code {code}"
        raise FFmpegFailed(
            "FFmpeg failed to decode or encode this video", permanent=True, detail=last[:500]
        )
    return RunResult(stdout="\n".join(stdout), stderr_tail=stderr_tail)


def _drain(proc: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").strip()
        if line:
            tail.append(line)


def _watch(
    proc: subprocess.Popen[bytes], state: dict[str, object], deadline: float, stall: float | None
) -> None:
    while proc.poll() is None:
        now = time.monotonic()
        if now > deadline:
            state["why_killed"] = "Processing timed out"
        elif stall is not None and now - float(state["last_progress"]) > stall:  # type: ignore[arg-type]
            state["why_killed"] = f"FFmpeg made no progress for {stall:g} s"
        if state["why_killed"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        time.sleep(0.2)
