"""The stack's supervisor (devstack/supervisor.py), on real child processes: a unit that exits
is started again after its backoff, a held unit stays down for its planned outage, a unit that
will not start is tried again later, and every restart is said."""

from __future__ import annotations

import subprocess
import time

from devstack.supervisor import Supervisor, Unit


class Sleeper:
    """A real process that can die, and be started again."""

    def __init__(self, broken_starts: int = 0) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.broken_starts = broken_starts
        self.start()

    def start(self) -> None:
        if self.broken_starts > 0:
            self.broken_starts -= 1
            raise RuntimeError("address already in use")
        self.proc = subprocess.Popen(["sleep", "60"])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


def _tick_until(supervisor: Supervisor, done, seconds: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not done() and time.monotonic() - started < seconds:
        supervisor.tick()
        time.sleep(0.02)
    return time.monotonic() - started


def test_an_exited_unit_is_restarted_after_its_backoff_and_it_is_said() -> None:
    sleeper, said = Sleeper(), list[str]()
    supervisor = Supervisor([Unit("api", sleeper.alive, sleeper.start)], said.append)
    sleeper.kill()
    took = _tick_until(supervisor, sleeper.alive, 5)
    assert sleeper.alive(), said
    assert 0.4 <= took < 2.0
    assert said[0].startswith("api exited") and "restarted" in said[-1]
    assert supervisor.units["api"].restarts == 1
    sleeper.kill()


def test_a_held_unit_stays_down_for_the_planned_outage() -> None:
    sleeper = Sleeper()
    supervisor = Supervisor([Unit("redis", sleeper.alive, sleeper.start)], lambda _: None)
    supervisor.hold("redis", 1.5)
    sleeper.kill()
    took = _tick_until(supervisor, sleeper.alive, 5)
    assert sleeper.alive() and took >= 1.4
    sleeper.kill()


def test_a_unit_that_will_not_start_is_tried_again_with_a_longer_backoff() -> None:
    sleeper, said = Sleeper(), list[str]()
    supervisor = Supervisor([Unit("worker", sleeper.alive, sleeper.start)], said.append)
    sleeper.broken_starts = 2
    sleeper.kill()
    _tick_until(supervisor, sleeper.alive, 10)
    assert sleeper.alive(), said
    assert sum("did not start" in line for line in said) == 2
    assert supervisor.units["worker"].restarts == 1
    sleeper.kill()
