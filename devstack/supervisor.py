"""Keeps a stack's servers running, like compose's `restart: unless-stopped`: a unit that exits
is started again after a backoff (0.5 s, doubling to 30 s; back to 0.5 s once it has stayed up
30 s), each restart logged. Nothing is deleted because a process died: Postgres restarts on its
data folder, Redis on its port (its contents are gone, as with any Redis without persistence;
the reconciler re-sends what it held). Only the owner's stop (Ctrl-C) ends it.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.servers import Postgres, Redis, S3Server
from devstack.stack import Stack

log = logging.getLogger("devstack.supervisor")
FIRST_BACKOFF, MAX_BACKOFF, STABLE_AFTER = 0.5, 30.0, 30.0


@dataclass
class Unit:
    name: str
    alive: Callable[[], bool]
    restart: Callable[[], None]
    restarts: int = 0
    failures_in_a_row: int = 0
    down_since: float | None = None
    next_try: float = 0.0
    up_since: float = field(default_factory=time.monotonic)
    held_until: float = 0.0  # a planned outage: not restarted before then


class Supervisor:
    def __init__(self, units: list[Unit], say: Callable[[str], None] = log.warning) -> None:
        self.units = {unit.name: unit for unit in units}
        self.say = say
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, stack: Stack, say: Callable[[str], None] = log.warning) -> Supervisor:
        units = [Unit(name, functools.partial(_alive, stack, name), _restarter(stack, name))
                 for name in stack.processes]  # fmt: skip
        for server in stack.services.owned:
            units.append(_server_unit(server))
        return cls(units, say)

    def hold(self, name: str, seconds: float) -> None:
        """Leave `name` down for `seconds` after it exits (an outage of a planned length)."""
        with self._lock:
            self.units[name].held_until = time.monotonic() + seconds

    def tick(self) -> None:
        now = time.monotonic()
        for unit in self.units.values():
            with self._lock:
                self._check(unit, now)

    def _check(self, unit: Unit, now: float) -> None:
        if unit.alive():
            if unit.down_since is not None:  # up after all (a start that answered late)
                self.say(f"{unit.name} is running again after {now - unit.down_since:.1f} s")
                unit.down_since, unit.up_since = None, now
            elif now - unit.up_since > STABLE_AFTER:
                unit.failures_in_a_row = 0
            return
        if unit.down_since is None:
            backoff = min(MAX_BACKOFF, FIRST_BACKOFF * 2**unit.failures_in_a_row)
            unit.down_since, unit.next_try = now, max(now + backoff, unit.held_until)
            self.say(f"{unit.name} exited; restarting in {unit.next_try - now:.1f} s")
            return
        if now < unit.next_try:
            return
        unit.failures_in_a_row += 1
        try:
            unit.restart()
        except Exception as exc:  # noqa: BLE001 - it is tried again after a longer backoff
            backoff = min(MAX_BACKOFF, FIRST_BACKOFF * 2**unit.failures_in_a_row)
            unit.next_try = time.monotonic() + backoff
            self.say(f"{unit.name} did not start ({exc!s:.200}); again in {backoff:.1f} s")
            return
        unit.restarts += 1
        self.say(f"{unit.name} restarted after {time.monotonic() - unit.down_since:.1f} s down "
                 f"(restart {unit.restarts})")  # fmt: skip
        unit.down_since, unit.up_since = None, time.monotonic()

    def run(self, interval: float = 0.25) -> None:
        while not self._stop.wait(interval):
            self.tick()

    def start(self) -> Supervisor:
        self._thread = threading.Thread(target=self.run, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def _alive(stack: Stack, name: str) -> bool:
    return stack.processes[name].alive()  # the current one: a restart replaces the Process


def _restarter(stack: Stack, name: str) -> Callable[[], None]:
    starts = {"api": stack.start_api, "worker": stack.start_worker,
              "webhooks": stack.start_webhooks, "nginx": stack.start_edge}  # fmt: skip
    return starts[name]


def _server_unit(server: Postgres | Redis | S3Server) -> Unit:
    if isinstance(server, Postgres):
        return Unit("postgres", server.alive, server.start_server)
    if isinstance(server, Redis):
        return Unit("redis", server.alive, lambda: None if server.start() else None)
    return Unit("s3", server.proc.alive, server.restart)
