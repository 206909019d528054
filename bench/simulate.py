"""The autoscaling simulator: arrival curves replayed against a worker fleet whose job times come
from the measured worker tier, with instance start-up delay, under three scaling policies.

    python -m bench.simulate [--results docs/bench/results.json] [--out docs]

Policies, each evaluated once a minute as CloudWatch alarms are:
- oldest-age step: +1 instance when the oldest queued job is older than 60 s for 2 minutes;
  -1 after 10 minutes with nothing queued and a slot free (docs/deploy.md's former rule);
- backlog target tracking: desired = ceil(jobs waiting or running / jobs one instance clears in
  TARGET_WAIT_SECONDS), out at once, in one at a time after 5 quiet minutes;
- CPU: +1 above 70 % busy slots for 2 minutes, -1 below 30 % for 10 minutes.
Scenarios: a burst (500 uploads in 5 minutes), a day-shaped curve (24 h, 1 to 40 uploads a
minute), a slow trickle (6 h, one every ~3 minutes).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SLOTS_PER_INSTANCE = 2  # a 2-vCPU compute instance, one worker process per vCPU
STARTUP_SECONDS = 120  # launch, boot, image pull, worker ready
TARGET_WAIT_SECONDS = 120
MIN_INSTANCES, MAX_INSTANCES = 1, 30
DEFAULT_RF_PER_SLOT = 3.2  # output seconds per wall second per worker slot (docs/deploy.md)


@dataclass
class Fleet:
    ready: list[float] = field(default_factory=list)  # when each instance can take jobs
    launched: list[float] = field(default_factory=list)
    instance_seconds: float = 0.0


def job_seconds(rng: random.Random, rf_per_slot: float) -> float:
    """Input durations: mostly phone clips, some long recordings; output = min(d, 30) + 4 s."""
    duration = rng.choice([rng.uniform(5, 30)] * 7 + [rng.uniform(30, 600)] * 3)
    return (min(duration, 30.0) + 4.0) / rf_per_slot + 1.0  # + probe, storage, claim


def arrivals(scenario: str, rng: random.Random) -> list[float]:
    if scenario == "burst":
        return sorted(rng.uniform(0, 300) for _ in range(500))
    if scenario == "day":
        times, t = [], 0.0
        while t < 86_400:  # 1/min at night to 40/min at the evening peak
            rate = (1 + 39 * max(0.0, math.sin(math.pi * (t / 86_400 - 0.2))) ** 3) / 60
            t += rng.expovariate(rate)
            times.append(t)
        return times[:-1]
    times, t = [], 0.0
    while t < 21_600:  # one upload every ~3 minutes
        t += rng.expovariate(1 / 180)
        times.append(t)
    return times[:-1]


Policy = Callable[[dict[str, Any]], int]  # state -> instance change


def oldest_age_step(s: dict[str, Any]) -> int:
    if s["oldest_age"] > 60 and s["prev_oldest_age"] > 60 and s["since_change"] >= 120:
        return 1
    return -1 if s["quiet_minutes"] >= 10 else 0


def backlog_target(s: dict[str, Any]) -> int:
    per_instance = max(1.0, SLOTS_PER_INSTANCE * TARGET_WAIT_SECONDS / s["mean_job_seconds"])
    desired = math.ceil((s["queued"] + s["running"]) / per_instance)
    desired = max(MIN_INSTANCES, min(MAX_INSTANCES, desired))
    if desired > s["instances"]:
        return int(desired - s["instances"])
    return -1 if desired < s["instances"] and s["quiet_minutes"] >= 5 else 0


def cpu_based(s: dict[str, Any]) -> int:
    if s["busy"] > 0.7 and s["prev_busy"] > 0.7 and s["since_change"] >= 120:
        return 1
    return -1 if s["low_busy_minutes"] >= 10 else 0


POLICIES: dict[str, Policy] = {
    "oldest-age step": oldest_age_step,
    "backlog target": backlog_target,
    "cpu": cpu_based,
}


def simulate(scenario: str, policy: Policy, rf_per_slot: float, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    pending = arrivals(scenario, rng)
    service = [job_seconds(rng, rf_per_slot) for _ in pending]
    mean_job = sum(service) / len(service)
    fleet = Fleet(ready=[0.0] * MIN_INSTANCES, launched=[0.0] * MIN_INSTANCES)
    queue: list[tuple[float, float]] = []  # (arrival, service)
    running: list[float] = []  # heap of finish times
    waits: list[float] = []
    trace: list[tuple[float, int, int]] = []
    state = {"prev_oldest_age": 0.0, "prev_busy": 0.0, "quiet_minutes": 0, "low_busy_minutes": 0,
             "since_change": 10_000.0}  # fmt: skip
    t, i, step = 0.0, 0, 1.0
    end = (pending[-1] if pending else 0) + 4 * 3600
    last_done = 0.0
    while t < end:
        while i < len(pending) and pending[i] <= t:
            queue.append((pending[i], service[i]))
            i += 1
        while running and running[0] <= t:
            last_done = heapq.heappop(running)
        slots = SLOTS_PER_INSTANCE * sum(1 for r in fleet.ready if r <= t)
        while queue and len(running) < slots:
            arrived, seconds = queue.pop(0)
            waits.append(t - arrived)
            heapq.heappush(running, t + seconds)
        fleet.instance_seconds += step * len(fleet.launched)
        if int(t) % 60 == 0:
            oldest = t - queue[0][0] if queue else 0.0
            busy = len(running) / slots if slots else 1.0
            state.update(oldest_age=oldest, busy=busy, queued=len(queue), running=len(running),
                         instances=len(fleet.launched), mean_job_seconds=mean_job)  # fmt: skip
            state["quiet_minutes"] = (
                state["quiet_minutes"] + 1 if not queue and len(running) < slots else 0
            )
            state["low_busy_minutes"] = state["low_busy_minutes"] + 1 if busy < 0.3 else 0
            change = policy(state)
            if change > 0 and len(fleet.launched) < MAX_INSTANCES:
                for _ in range(min(change, MAX_INSTANCES - len(fleet.launched))):
                    fleet.launched.append(t)
                    fleet.ready.append(t + STARTUP_SECONDS)
                state["since_change"] = 0.0
            elif change < 0 and len(fleet.launched) > MIN_INSTANCES:
                fleet.launched.pop()  # warm shutdown: its jobs finish elsewhere (approximation)
                fleet.ready.pop()
                state["since_change"] = 0.0
                state["quiet_minutes"] = state["low_busy_minutes"] = 0
            state["prev_oldest_age"], state["prev_busy"] = oldest, busy
            trace.append((t, len(queue), len(fleet.launched)))
        state["since_change"] += step
        if i >= len(pending) and not queue and not running and t > last_done + 1800:
            break
        t += step
    waits.sort()
    return {"jobs": len(pending), "p95_wait_s": round(waits[int(0.95 * (len(waits) - 1))], 1),
            "max_wait_s": round(waits[-1], 1), "cleared_s": round(last_done, 0),
            "instance_minutes": round(fleet.instance_seconds / 60, 0), "trace": trace}  # fmt: skip


def run_all(rf_per_slot: float) -> dict[str, Any]:
    return {scenario: {name: simulate(scenario, policy, rf_per_slot)
                       for name, policy in POLICIES.items()}
            for scenario in ("burst", "day", "trickle")}  # fmt: skip


def favoured(results: dict[str, Any]) -> str:
    """The policy with the lowest p95 wait summed over scenarios, instance-minutes as a tie-break
    within 10 %."""

    def score(name: str) -> tuple[float, float]:
        waits = sum(results[s][name]["p95_wait_s"] for s in results)
        cost = sum(results[s][name]["instance_minutes"] for s in results)
        return (round(waits, -1), cost)

    return min(POLICIES, key=score)


def measured_rf_per_slot(results_path: Path) -> float:
    try:
        workers = json.loads(results_path.read_text())["workers"]["reelforge"]
        return float(workers["realtime_factor"]) / int(workers["concurrency"])
    except (OSError, KeyError, ValueError, ZeroDivisionError):
        return DEFAULT_RF_PER_SLOT


def main() -> int:
    from bench.report_sim import write_simulation

    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--results", type=Path, default=Path("docs/bench/results.json"))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    rf = measured_rf_per_slot(args.results)
    results = run_all(rf)
    write_simulation(results, favoured(results), rf, args.out)
    print(f"simulation written under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
