"""Where the machine's CPU goes during a measured Locust window, per upload and per process
group: the API tier, nginx, the load generator, Postgres and Redis, the benchmark's own process
(the janitor deleting reelforge's originals), kernel threads, the rest — and the machine's idle
time. On 2 vCPUs shared by everything, uploads/s is roughly the CPU there is divided by what one
upload costs all processes together, so this says which process a throughput gap lives in.

Read from /proc through psutil at the window's start and end; a process that started inside the
window counts whole, one that ended inside it not at all (none should, in these phases).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import psutil

GROUPS = ("api", "nginx", "locust", "postgres", "redis", "bench", "kernel", "other")


def group_of(proc: psutil.Process) -> str | None:
    """The group a process belongs to; None when it is gone."""
    try:
        if proc.pid == os.getpid():
            return "bench"
        cmdline = proc.cmdline()
        if not cmdline:  # kernel threads have none
            return "kernel" if proc.ppid() in (0, 2) else "other"
        first, whole = os.path.basename(cmdline[0]), " ".join(cmdline)
    except psutil.Error:
        return None
    if "locust" in whole:
        return "locust"
    if first.startswith("nginx"):
        return "nginx"
    if "gunicorn" in whole or "uvicorn" in whole:
        return "api"
    if first.startswith("postgres"):
        return "postgres"
    if first.startswith("redis-server"):
        return "redis"
    return "other"


Snapshot = dict[tuple[int, float], tuple[str, float]]  # (pid, start time) → (group, CPU s)


def snapshot() -> tuple[Snapshot, dict[str, float]]:
    """Every process's group and CPU seconds so far (user + system); and the machine's busy and
    idle seconds."""
    processes: Snapshot = {}
    for proc in psutil.process_iter():
        group = group_of(proc)
        if group is None:
            continue
        try:
            times, started = proc.cpu_times(), proc.create_time()
        except psutil.Error:
            continue
        processes[(proc.pid, started)] = (group, times.user + times.system)
    machine = psutil.cpu_times()
    idle = machine.idle + getattr(machine, "iowait", 0.0)
    return processes, {"machine_busy": sum(machine) - idle, "machine_idle": idle}


def per_upload(
    before: tuple[Snapshot, dict[str, float]],
    after: tuple[Snapshot, dict[str, float]],
    uploads: float,
) -> dict[str, float]:
    """Milliseconds per upload for every group between two snapshots: each process alive at the
    end, from its CPU at the start (0 if it started since); a process that ended in between is
    not counted (its CPU since the start is not known)."""
    if uploads <= 0:
        return {}
    seconds = dict.fromkeys(GROUPS, 0.0)
    for process, (group, cpu) in after[0].items():
        seconds[group] += cpu - before[0].get(process, (group, 0.0))[1]
    for name, value in after[1].items():
        seconds[name] = value - before[1][name]
    return {key: round(value * 1000 / uploads, 2) for key, value in seconds.items()}


class WindowSampler(threading.Thread):
    """Snapshots at `start` and `start + seconds` (seconds from now), in the background, while
    the load generator runs in the foreground."""

    def __init__(self, start: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.start_at, self.seconds = start, seconds
        self.cancelled = threading.Event()
        self.before: tuple[Snapshot, dict[str, float]] | None = None
        self.after: tuple[Snapshot, dict[str, float]] | None = None

    def run(self) -> None:
        if self.cancelled.wait(self.start_at):
            return
        self.before = snapshot()
        if self.cancelled.wait(self.seconds):
            return
        self.after = snapshot()

    def finish(self, uploads_per_second: float) -> dict[str, Any] | None:
        """Waits for the window's end (the load generator has returned: it is due), then
        `result`."""
        self.join(self.start_at + self.seconds + 5)
        return self.result(uploads_per_second)

    def result(self, uploads_per_second: float) -> dict[str, Any] | None:
        """Per-upload milliseconds by group, or None if the window was not sampled whole (the
        load generator ended early: the rest of the window is not waited for)."""
        self.cancelled.set()
        self.join()
        if self.before is None or self.after is None:
            return None
        return per_upload(self.before, self.after, uploads_per_second * self.seconds)
