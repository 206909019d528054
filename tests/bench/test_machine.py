"""bench/machine.py: CPU a process spends inside the window lands in its group, per upload."""

from __future__ import annotations

import subprocess
import sys

import psutil

from bench.machine import WindowSampler, group_of, per_upload

BURN = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"


def test_a_process_burning_cpu_in_the_window_is_charged_to_its_group() -> None:
    sampler = WindowSampler(0, 3)
    sampler.start()
    burner = subprocess.Popen([sys.executable, "-c", f"{BURN}\ntime.sleep(5)", "locust-burner"])
    try:
        assert group_of(psutil.Process(burner.pid)) == "locust"
        ms = sampler.finish(uploads_per_second=2 / 3)  # two uploads in the 3 s window
    finally:
        burner.kill()
        burner.wait()
    assert ms is not None
    # 600 ms of CPU over two uploads: ~300 each (start-up CPU on top, the rest of the window
    # asleep); no other group is charged with it.
    assert 280 <= ms["locust"] <= 450, ms
    assert ms["machine_busy"] >= ms["locust"], ms
    assert all(ms[group] < 150 for group in ("api", "nginx", "postgres", "redis")), ms


def test_a_window_the_load_generator_left_early_gives_no_figure() -> None:
    sampler = WindowSampler(0, 30)
    sampler.start()
    assert sampler.result(uploads_per_second=10) is None  # not half a window's worth


def test_per_upload_counts_each_process_from_its_own_start_and_nothing_without_uploads() -> None:
    machine_before, machine_after = {"machine_busy": 2.0}, {"machine_busy": 4.0}
    before = {(10, 1.0): ("api", 1.0), (11, 1.0): ("locust", 9.0)}  # 11: an earlier run's
    after = {(10, 1.0): ("api", 1.5), (12, 5.0): ("locust", 0.3)}  # 12: started since
    ms = per_upload((before, machine_before), (after, machine_after), uploads=10)
    assert ms["api"] == 50.0 and ms["locust"] == 30.0 and ms["machine_busy"] == 200.0, ms
    # A pid reused by a new process is a new process: its CPU counts from zero.
    reused = {(10, 7.0): ("api", 0.2)}
    assert per_upload((before, machine_before), (reused, machine_after), uploads=1)["api"] == 200.0
    assert per_upload((before, machine_before), (after, machine_after), uploads=0) == {}


def test_this_process_and_kernel_threads_have_their_own_groups() -> None:
    assert group_of(psutil.Process()) == "bench"
    assert group_of(psutil.Process(2)) == "kernel"  # kthreadd
