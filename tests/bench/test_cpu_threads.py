"""bench/cpu.py's per-upload CPU: threads of the measured process counted by thread id."""

from __future__ import annotations

import os
import threading
import time

from bench.cpu import _thread_cpu, _worker_spent


def _burn(seconds: float, then_wait: threading.Event | None = None) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    if then_wait is not None:
        then_wait.wait()


def test_a_thread_that_exits_between_readings_is_not_subtracted() -> None:
    pid = os.getpid()
    early = threading.Thread(target=_burn, args=(0.3,))
    early.start()
    time.sleep(0.05)  # it is running and listed when the first reading is taken
    before = _thread_cpu(pid)
    assert early.native_id in before
    early.join()  # it ends with ~0.3 s of CPU the second reading cannot see
    done = threading.Event()
    late = threading.Thread(target=_burn, args=(0.2, done))  # started since: counts whole
    late.start()
    _burn(0.1)  # the main thread
    time.sleep(0.3)  # late has burnt its 0.2 s and waits, alive for the second reading
    try:
        main, others = _worker_spent(pid, before)
    finally:
        done.set()
        late.join()
    assert 0.1 <= main < 0.3, main
    # The thread that ended is gone from the sum, not subtracted from it: the old reading
    # (main + others, a single total) gave 0.2 minus early's CPU, about −0.1 s here.
    assert others >= 0.15, others
