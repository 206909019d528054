"""`python -m bench.cpu` end to end: every target (and a variant from another checkout, with its
own settings) takes real uploads, two at a time, and reports the CPU its worker spent and what
Postgres and Redis spent for it. Shapes, not numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cpu_per_upload_measures_every_target_and_a_variant_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "variant"
    subprocess.run(["git", "worktree", "add", "--detach", str(checkout), "HEAD"], cwd=REPO,
                   check=True, capture_output=True)  # fmt: skip
    try:
        result = subprocess.run([sys.executable, "-m", "bench.cpu", "--uploads", "4",
                                 "--clip-seconds", "4", "--variant-repo", str(checkout),
                                 "--concurrency", "2",
                                 "--variant-setting", "RATE_LIMIT_ENABLED=false"],
                                cwd=REPO, capture_output=True, text=True, timeout=600)  # fmt: skip
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=REPO,
                       capture_output=True)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(result.stdout[: result.stdout.index("\nAPI CPU per upload")])
    assert data["uploads"] == 4 and data["concurrency"] == 2
    for target in ("bare", "floor", "reelforge", "variant"):
        summary = data[target]
        assert summary["main_ms"] > 0 and summary["threads_ms"] >= 0, (target, summary)
        assert summary["p10_ms"] <= summary["median_ms"] <= summary["p90_ms"], (target, summary)
    # Every reelforge or floor upload inserts a row and publishes a message: Postgres and Redis
    # work. The bare endpoint touches neither: what they spend during its uploads is their own
    # background (Redis's cron, Postgres's writers), a fraction of an insert's cost.
    for target in ("floor", "reelforge", "variant"):
        assert data[target]["postgres_redis_ms"] > 0, data[target]
        assert data["bare"]["postgres_redis_ms"] < data[target]["postgres_redis_ms"] / 2, data
