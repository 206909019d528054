"""The chaos soak in `make test`: two minutes, seeded, every fault kind at least once, on the
production-shaped native stack (bench/chaos.py). The 15-minute runs are in docs/BENCHMARKS.md."""

from __future__ import annotations

import json
from pathlib import Path

from bench.chaos import SoakPlan, soak, soak_clip
from bench.chaos_faults import KINDS


def test_two_minutes_of_faults_lose_nothing_and_fail_nothing(workdir: Path) -> None:
    clip = soak_clip(workdir / "soak-clip.mp4")
    plan = SoakPlan(seconds=120, users=6, in_flight=4, fault_every=(8.0, 12.0), seed=30,
                    drain_seconds=240)  # fmt: skip
    result = soak(plan, clip, workdir / "soak")
    print(json.dumps({k: v for k, v in result.items() if k != "supervisor"}, indent=1, default=str))
    assert {f["kind"] for f in result["faults"]} == set(KINDS), "every fault kind must run"
    assert result["acknowledged"] >= 12, "too little load to prove anything"
    unmet = [t for t in result["targets"] if not t["met"]]
    assert not unmet, unmet
