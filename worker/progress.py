"""FFmpeg's output time → the job's 0-99 % progress, written at most once per interval (each
write also renews the lease); raises JobCancelled as soon as the claim is gone. The last time
FFmpeg reports is the output's duration: no second probe of the output is needed."""

from __future__ import annotations

import time

from core.jobs.store import Claim, JobStore
from worker.media.errors import JobCancelled


class ProgressReporter:
    def __init__(self, jobs: JobStore, claim: Claim, expected_seconds: float, interval: float):
        self.jobs, self.claim = jobs, claim
        self.expected = max(expected_seconds, 0.1)
        self.interval = interval
        self.last_write = 0.0
        self.seconds_done = 0.0  # the output's duration once FFmpeg has finished

    def __call__(self, seconds_done: float) -> None:
        self.seconds_done = max(self.seconds_done, seconds_done)
        now = time.monotonic()
        if now - self.last_write < self.interval:
            return
        self.last_write = now
        percent = min(99, max(1, int(seconds_done / self.expected * 100)))
        if not self.jobs.heartbeat(self.claim, percent):
            raise JobCancelled()
