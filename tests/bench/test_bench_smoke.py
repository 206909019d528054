"""`make bench` end to end in seconds: every stage runs and the report is written. The numbers
are not checked here (benchmarks never become timed assertions); their presence and shape are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_smoke_produces_the_report(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke",
                             "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                            timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (tmp_path / "BENCHMARKS.md").read_text()
    for heading in (
        "## Web tier",
        "## Worker tier",
        "## Memory",
        "## Against the original report",
        "## Targets",
    ):
        assert heading in report
    data = json.loads((tmp_path / "bench" / "results.json").read_text())
    for phase in data["web"]["phases"]:
        for target in ("reelforge", "bare"):
            assert phase[target]["requests"] > 0 and phase[target]["errors_pct"] == 0, phase
    assert data["workers"]["reelforge"]["processed"] == data["workers"]["reelforge"]["jobs"]
    assert data["web"]["memory"]["status"] == 202
    assert data["enqueue"]["per_second"] > 0
    for plot in ("throughput.png", "latency_p95.png", "latency_p50.png"):
        assert (tmp_path / "bench" / plot).read_bytes()[:4] == b"\x89PNG"
