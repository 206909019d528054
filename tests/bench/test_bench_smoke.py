"""`make bench` end to end in seconds: every stage runs and the report is written. The numbers
are not checked here (benchmarks never become timed assertions); their presence and shape are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_smoke_produces_the_report(tmp_path: Path) -> None:
    # --rounds 1 (smoke mode's own is 2): the flag reaches the web tier, and the smoke run
    # stays the suite's proportion (two rounds of every Locust phase cost minutes).
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--rounds", "1",
                             "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                            timeout=1500)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (tmp_path / "BENCHMARKS.md").read_text()
    for heading in (
        "## Web tier",
        "## Worker tier",
        "## Memory",
        "## Against the original report",
        "## Targets",
        "## Scheduling (fair vs FIFO, same workload, same run)",
        "## Pick-up latency (upload commit → claim)",
        "## Worker memory per job",
        "## Resumable uploads (tus)",
        "## Scale: cost that does not grow with the data",
        "## The web client: bytes per page, time to interactive, upload vs the CLI",
    ):
        assert heading in report
    data = json.loads((tmp_path / "bench" / "results.json").read_text())
    page = data["page"]
    assert page["page_vs_cli"] > 0 and len(page["pages"]) == 7
    assert all(p["script_style_bytes"] > 0 and p["ready_ms"] > 0 for p in page["pages"])
    for phase in data["web"]["phases"]:
        assert len(phase["rounds"]) == 1, phase["rounds"]
        for target in ("reelforge", "bare"):
            assert phase[target]["requests"] > 0 and phase[target]["errors_pct"] == 0, phase
    floors = [phase for phase in data["web"]["phases"] if "floor" in phase]
    assert [phase["floor"]["users"] for phase in floors] == [6]  # smoke mode's floor_users
    assert floors[0]["floor"]["requests"] > 0 and floors[0]["floor"]["errors_pct"] == 0
    assert floors[0]["floor_ratio"]["median"] > 0 and "floor ÷ bare" in report
    # Where the machine's CPU went in the floor's phase: every target's API processes and the
    # load generator worked in its window.
    for target in ("reelforge", "bare", "floor"):
        machine = floors[0][target]["machine_ms"]
        assert machine["api"] > 0 and machine["locust"] > 0, (target, machine)
        assert machine["machine_busy"] >= machine["api"], (target, machine)
    assert "Where the machine's CPU goes" in report
    for storage in ("reelforge", "s3"):
        run = data["workers"][storage]
        assert run["processed"] == run["jobs"] and run["phase_seconds"]["transcode"] > 0
    scheduling = data["scheduling"]
    assert (
        scheduling["fairness"]["fair"]["wall_s"] > 0
        and scheduling["fairness"]["fifo"]["wall_s"] > 0
    )
    assert scheduling["lanes"]["fair"]["long_jobs_before"] >= 0
    assert scheduling["pickup"]["idle_p95_ms"] > 0
    assert scheduling["rss_4k"]["status"] == "processed" and scheduling["rss_4k"]["per_job_mb"] > 0
    scale = data["scale"]["levels"]
    assert list(scale) == ["L1", "L2"]  # smoke mode's sizes
    for level in scale.values():
        assert level["migration_seconds"] > 0 and level["timings"]["fair claim"]["p95_ms"] > 0
        assert [f["claimers"] for f in level["fleet"]] == [1, 8, 32]
        assert all(f["claims"] > 0 and f["unfair_picks"] == 0 for f in level["fleet"])
        assert level["position_error"]["sample"] > 0
    assert all(p["plan"] and "not explained" not in p["plan"]
               for p in scale["L2"]["plans"]["fair claim"])  # fmt: skip
    simulation = json.loads((tmp_path / "bench" / "simulation.json").read_text())
    assert set(simulation["results"]) == {"burst", "day", "trickle"}
    assert simulation["results"]["burst"]["backlog target"]["jobs"] == 500
    assert data["web"]["memory"]["status"] == 202
    for row in data["web"]["tus"]:
        for target in ("multipart", "bare", "tus", "tus_chunks"):
            assert row[target]["requests"] > 0 and row[target]["errors_pct"] == 0, row
    assert data["web"]["tus_memory"]["status"] == 204
    assert data["web"]["tus_resume"]["cut_and_resumed_s"] > 0
    assert data["enqueue"]["per_second"] > 0
    for plot in ("throughput.png", "latency_p95.png", "latency_p50.png", "sim-burst.png"):
        assert (tmp_path / "bench" / plot).read_bytes()[:4] == b"\x89PNG"
