"""The chaos soak's section of docs/BENCHMARKS.md (bench/chaos.py): the invariants and targets,
each met or not, the recovery time per fault kind, and what the supervisor had to do."""

from __future__ import annotations

from typing import Any

from bench.chaos_checks import median


def chaos_section(results: dict[str, Any]) -> list[str]:
    runs = results.get("chaos") or {}
    if not runs or runs.get("skipped"):
        return []
    lines = [
        "",
        "## Faults of seconds: the chaos soak",
        "",
        "`python -m bench --stages chaos` (bench/chaos.py): the production-shaped native stack "
        "(nginx → gunicorn ×2 → Postgres, Redis, the S3 test server; one Celery worker, "
        "concurrency 2; everything supervised as under `make stack`), users uploading a 6 s "
        "960×540 clip continuously (multipart with `Idempotency-Key` and tus in 1 MiB chunks, in "
        "turn), one fault every 10–40 s in turn: SIGKILL of the Celery child running FFmpeg, of the "
        "Celery main process, of a gunicorn worker; Redis killed and down 3 s (it comes back "
        "empty); Postgres stopped `-m immediate` and down 3 s; the S3 server frozen 3 s "
        "(SIGSTOP/SIGCONT: the test server keeps objects in memory, so a kill would be a lost "
        "disk, not an outage). A 2-minute seeded run of the same soak is in `make test` "
        "(tests/reliability/test_chaos_soak.py).",
    ]
    for name, run in runs.items():
        lines += _run(name, run)
    return lines


def _run(name: str, run: dict[str, Any]) -> list[str]:
    plan = run["plan"]
    kinds = sorted({f["kind"] for f in run["faults"]})
    lines = [
        "",
        f"### {name}: {run['seconds'] / 60:.0f} min, {plan['users']} users, seed {plan['seed']}",
        "",
        f"{len(run['faults'])} faults ({', '.join(kinds)}); {run['acknowledged']} uploads "
        f"acknowledged, {run['processed']} processed; drained {run['drain_seconds']} s after the "
        f"load stopped; {run['responses']} responses seen by clients; "
        f"{run['interruptions_retried']} service interruptions retried at the job's own time, "
        f"{run['worker_losses']} jobs taken back from a killed worker; 5xx/connection errors "
        f"inside fault windows: {run['errors_inside_fault_windows'] or 'none'}. Verdict: "
        f"**{'all targets met' if run['passed'] else 'targets missed'}**.",
        "",
        "| target | value | limit | met |",
        "|---|---|---|---|",
    ]
    for t in run["targets"]:
        lines.append(
            f"| {t['name']} | {t['value']} | {t['target']:g} | {'yes' if t['met'] else '**no**'} |"
        )
    lines += ["", "| fault | count | first completion after it: median s | max s |",
              "|---|---|---|---|"]  # fmt: skip
    counts = {k: sum(f["kind"] == k for f in run["faults"]) for k in kinds}
    for kind in kinds:
        values = run["recovery_seconds"].get(kind, [])
        lines.append(f"| {kind} | {counts[kind]} | {median(values)} | {max(values, default=0)} |")
    restarts = [s for values in run["killed_job_restart_seconds"].values() for s in values]
    lines += ["", f"Jobs held by a killed worker process were claimed again after median "
              f"{median(restarts)} s, max {max(restarts, default=0)} s (lease "
              f"{run['lease_seconds']:g} s). Supervisor: {len(run['supervisor'])} lines, e.g. "
              f"`{run['supervisor'][0] if run['supervisor'] else '-'}`."]  # fmt: skip
    return lines
