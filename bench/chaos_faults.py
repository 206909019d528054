"""The chaos soak's faults (bench/chaos.py), one every 10–40 s in turn, each on the live stack:

- `ffmpeg_child`: SIGKILL of the Celery child process running FFmpeg;
- `worker_main`: SIGKILL of the Celery main process (its children are left to finish or die);
- `gunicorn_worker`: SIGKILL of one gunicorn worker (its master starts another);
- `redis`: Redis killed, down 3 s, started again empty (no persistence: every message is gone);
- `postgres`: Postgres stopped `-m immediate` (a crash), down 3 s, started again (recovery);
- `s3`: the S3 server frozen 3 s (SIGSTOP, then SIGCONT). The test server (moto) keeps objects
  in memory, so a kill would lose every stored file — not an outage of seconds but a lost disk.

Servers and the worker come back through the supervisor (devstack/supervisor.py), as they do under
`make stack`; a fault's window ends when what it took down answers again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from devstack.servers import Postgres, Redis, S3Server, wait_until
from devstack.stack import Stack
from devstack.supervisor import Supervisor

KINDS = ("ffmpeg_child", "worker_main", "gunicorn_worker", "redis", "postgres", "s3")
OUTAGE_SECONDS = 3.0


@dataclass
class Fault:
    kind: str
    started: float  # time.time()
    ended: float = 0.0  # what it took down answers again
    detail: str = ""
    killed_jobs: tuple[int, ...] = ()  # jobs processing when a worker process was killed
    attempts: dict[int, int] = field(default_factory=dict)  # their claims so far, then
    reclaimed: dict[int, float] = field(default_factory=dict)  # seconds until claimed again


class Injector:
    def __init__(
        self, stack: Stack, supervisor: Supervisor, processing: Callable[[], dict[int, int]]
    ) -> None:
        self.stack, self.supervisor, self.processing = stack, supervisor, processing

    def inject(self, kind: str) -> Fault:
        fault = Fault(kind, time.time())
        getattr(self, f"_{kind}")(fault)
        fault.ended = fault.ended or time.time()
        print(f"[fault] {kind}: {fault.detail} ({fault.ended - fault.started:.1f} s)", flush=True)
        return fault

    # ---------------------------------------------------------------- worker tier -----------
    def _ffmpeg_child(self, fault: Fault) -> None:
        child = _wait_for(lambda: self._ffmpeg_parent(), 20)
        if child is None:
            fault.detail = "no FFmpeg ran within 20 s: nothing killed"
            return
        fault.attempts = self.processing()
        fault.killed_jobs = tuple(fault.attempts)
        os.kill(child, signal.SIGKILL)
        fault.detail = f"killed Celery child {child}"

    def _ffmpeg_parent(self) -> int | None:
        worker = self._pid("worker")
        if worker is None:
            return None
        for proc in _descendants(worker):
            if _name(proc) == "ffmpeg":
                parent = proc.ppid()
                return parent if parent != worker else None
        return None

    def _worker_main(self, fault: Fault) -> None:
        main = self._pid("worker")
        if main is None:
            fault.detail = "the worker was not running"
            return
        fault.attempts = self.processing()
        fault.killed_jobs = tuple(fault.attempts)
        os.kill(main, signal.SIGKILL)
        fault.detail = f"killed Celery main process {main}"
        self._until_alive("worker", fault)

    # ---------------------------------------------------------------- API tier --------------
    def _gunicorn_worker(self, fault: Fault) -> None:
        master = self._pid("api")
        workers = [] if master is None else psutil.Process(master).children()
        if not workers:
            fault.detail = "no gunicorn worker found"
            return
        os.kill(workers[0].pid, signal.SIGKILL)
        fault.detail = f"killed gunicorn worker {workers[0].pid}"
        wait_until(lambda: len(psutil.Process(master).children()) >= len(workers), 30,
                   "gunicorn to replace its worker")  # fmt: skip

    # ---------------------------------------------------------------- servers ---------------
    def _redis(self, fault: Fault) -> None:
        server = self.stack.services.server(Redis)
        assert server is not None and server.proc is not None
        self.supervisor.hold("redis", OUTAGE_SECONDS)
        server.proc.kill()
        server.proc.wait()
        fault.detail = f"Redis killed, down {OUTAGE_SECONDS:g} s, started again empty"
        self._until_alive("redis", fault)

    def _postgres(self, fault: Fault) -> None:
        server = self.stack.services.server(Postgres)
        assert server is not None
        self.supervisor.hold("postgres", OUTAGE_SECONDS)
        server.crash()
        fault.detail = f"Postgres stopped -m immediate, down {OUTAGE_SECONDS:g} s, restarted"
        self._until_alive("postgres", fault)

    def _s3(self, fault: Fault) -> None:
        server = self.stack.services.server(S3Server)
        assert server is not None and server.proc.proc is not None
        pid = server.proc.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(OUTAGE_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)
        fault.detail = f"S3 server frozen {OUTAGE_SECONDS:g} s (SIGSTOP/SIGCONT, contents kept)"

    # ---------------------------------------------------------------- helpers ---------------
    def _pid(self, name: str) -> int | None:
        process = self.stack.processes.get(name)
        if process is None or process.proc is None or not process.alive():
            return None
        return process.proc.pid

    def _until_alive(self, unit: str, fault: Fault) -> None:
        """Until the supervisor has seen `unit` go down and brought it back."""
        watched = self.supervisor.units[unit]
        wait_until(lambda: watched.down_since is not None, 10, f"the supervisor to see {unit} down")
        wait_until(lambda: watched.down_since is None and watched.alive(), 120,
                   f"{unit} to be back")  # fmt: skip
        fault.ended = time.time()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        found: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
        return found
    except psutil.Error:
        return []


def _name(proc: psutil.Process) -> str:
    try:
        return str(proc.name())
    except psutil.Error:
        return ""


def _wait_for(find: Callable[[], int | None], seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        time.sleep(0.2)
    return None
