"""The runner against real child processes: stalls and overruns kill the whole process group."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from worker.media.errors import FFmpegFailed, JobCancelled
from worker.media.runner import ResourceLimits, run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return status != "Z"


def test_stall_kills_the_whole_group_including_grandchildren(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = f"sleep 300 & echo $! > {pidfile}; echo out_time_us=1000; sleep 300"
    started = time.monotonic()
    with pytest.raises(FFmpegFailed, match="no progress for 1 s") as raised:
        run(["sh", "-c", script], timeout=60, stall_timeout=1, on_progress=lambda _: None)
    assert raised.value.permanent
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    assert not _alive(int(pidfile.read_text()))


def test_wall_clock_timeout(tmp_path: Path) -> None:
    with pytest.raises(FFmpegFailed, match="Processing timed out"):
        run(["sleep", "30"], timeout=1)


def test_progress_callback_can_cancel_and_the_process_dies(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = f"echo $$ > {pidfile}; while true; do echo out_time_us=5000000; sleep 0.1; done"

    def cancel(_: float) -> None:
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        run(["sh", "-c", script], timeout=30, on_progress=cancel)
    assert not _alive(int(pidfile.read_text()))


def test_progress_is_reported_in_seconds() -> None:
    seen: list[float] = []
    run(["sh", "-c", "echo out_time_us=1500000; echo out_time_us=N/A; echo progress=end"],
        timeout=10, on_progress=seen.append)  # fmt: skip
    assert seen == [1.5]


def test_crash_by_signal_is_transient_and_error_exit_is_permanent() -> None:
    with pytest.raises(FFmpegFailed) as crashed:
        run(["sh", "-c", "kill -SEGV $$"], timeout=10)
    assert not crashed.value.permanent and "signal 11" in crashed.value.reason
    with pytest.raises(FFmpegFailed) as failed:
        run(["sh", "-c", "echo 'Invalid data found' >&2; exit 1"], timeout=10)
    assert failed.value.permanent
    assert failed.value.reason == "FFmpeg failed to decode or encode this video"  # fixed text
    assert failed.value.detail == "Invalid data found"  # stderr: for the log only


def test_resource_limits_apply_to_the_child() -> None:
    result = run(["sh", "-c", "ulimit -n; ulimit -v"], timeout=10,
                 limits=ResourceLimits(memory_bytes=512 * 1024**2, open_files=64))  # fmt: skip
    assert result.stdout.splitlines() == ["64", str(512 * 1024)]


def test_missing_binary_is_a_transient_error() -> None:
    with pytest.raises(FFmpegFailed) as raised:
        run(["/nonexistent/ffmpeg"], timeout=5)
    assert not raised.value.permanent
