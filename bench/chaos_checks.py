"""The chaos soak's invariants and figures (bench/chaos.py), from what the users saw (the ledger),
what the database holds at the end, and what the supervisor said."""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

from bench.chaos_faults import Fault
from bench.chaos_load import TERMINAL, Ledger
from devstack.stack import Stack

GRACE_SECONDS = 10.0  # a fault's window: from the fault until 10 s after what it took down is back
RECOVERY_TARGET = 10.0  # first completion after a Redis, Postgres or S3 outage
PLANNED_EXITS = {"worker_main": "worker", "redis": "redis", "postgres": "postgres"}


def verdict(
    ledger: Ledger, faults: list[Fault], rows: list[dict[str, Any]], stack: Stack,
    health: dict[str, int], alive: dict[str, bool], worker_log: str,
    events: list[tuple[float, str]],
) -> dict[str, Any]:  # fmt: skip
    by_id = {row["id"]: row for row in rows}
    acked = {video for _, video in ledger.acknowledged.values()}
    lost = sorted(acked - by_id.keys())
    duplicated = sorted(by_id.keys() - acked) + _shared(ledger)
    unfinished = sorted(v for v in acked & by_id.keys() if by_id[v]["status"] not in TERMINAL)
    failed = [{"id": r["id"], "error": r["error"]} for r in rows if r["status"] == "failed"]
    backwards, retries_seen = _order(ledger)
    windows = [(f.started - 0.5, f.ended + GRACE_SECONDS) for f in faults]
    errors_in = Counter(code for t, code, _ in ledger.responses
                        if (code >= 500 or code == 0) and _inside(t, windows))  # fmt: skip
    errors_out = [(round(t, 1), code, what) for t, code, what in ledger.responses
                  if (code >= 500 or code == 0) and not _inside(t, windows)]  # fmt: skip
    unplanned = _unplanned_exits(faults, events)
    bad_outputs = _check_outputs(stack, rows, ledger)
    recovery = _recovery(faults, rows)
    restarts = _killed_job_restarts(faults, by_id)
    lease = float(stack.settings.get("LEASE_SECONDS", 30))
    figures: dict[str, Any] = {
        "acknowledged": len(ledger.acknowledged), "processed": sum(r["status"] == "processed" for r in rows),
        "failed": failed, "lost": lost, "duplicated": duplicated, "unfinished": unfinished,
        "unacknowledged": ledger.unacknowledged, "rejected": ledger.rejected,
        "status_went_back": backwards, "retries_seen_by_clients": retries_seen,
        "errors_inside_fault_windows": dict(errors_in), "errors_outside_fault_windows": errors_out,
        "responses": len(ledger.responses), "unplanned_exits": unplanned,
        "worker_unrecoverable_errors": worker_log.count("Unrecoverable error"),
        "alive_at_end": alive, "health_at_end": health, "bad_outputs": bad_outputs,
        "recovery_seconds": recovery, "killed_job_restart_seconds": restarts,
        "faults": [{"kind": f.kind, "at": round(f.started, 1), "window": round(f.ended - f.started, 1),
                    "detail": f.detail, "killed_jobs": {str(j): f.reclaimed.get(j)
                                                        for j in f.killed_jobs}} for f in faults],
        "supervisor": [line for _, line in events],
        "interruptions_retried": sum(int(r["interruptions"] or 0) for r in rows),
        "worker_losses": sum(int(r["worker_losses"] or 0) for r in rows),
    }  # fmt: skip
    worst_restart = max((s for values in restarts.values() for s in values), default=0.0)
    targets = [
        ("lost", len(lost), 0), ("duplicated", len(duplicated), 0),
        ("failed (every input is valid)", len(failed), 0), ("not finished", len(unfinished), 0),
        ("uploads never acknowledged", len(ledger.unacknowledged), 0),
        ("status went back", len(backwards), 0), ("5xx outside fault windows", len(errors_out), 0),
        ("worker deaths (Unrecoverable error)", figures["worker_unrecoverable_errors"], 0),
        ("processes that exited unplanned", sum(unplanned.values()), 0),
        ("processes down at the end", sum(not up for up in alive.values()), 0),
        ("/health and /ready not 200", sum(code != 200 for code in health.values()), 0),
        ("outputs not a 1280x720 H.264 MP4", len(bad_outputs), 0),
        ("killed job re-claimed after (s)", round(worst_restart, 1), lease + 10),
    ] + [(f"first completion after {kind} (s, max)", max(values), RECOVERY_TARGET)
         for kind, values in recovery.items() if kind in ("redis", "postgres", "s3") and values]  # fmt: skip
    figures["targets"] = [
        {"name": n, "value": v, "target": t, "met": v <= t} for n, v, t in targets
    ]
    figures["passed"] = all(t["met"] for t in figures["targets"])
    return figures


def _inside(at: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= at <= end for start, end in windows)


def _shared(ledger: Ledger) -> list[int]:
    """A video acknowledged to two different uploads."""
    counts = Counter(video for _, video in ledger.acknowledged.values())
    return sorted(v for v, n in counts.items() if n > 1)


def _order(ledger: Ledger) -> tuple[list[int], int]:
    """Videos whose status changed after it ended (or ended twice differently); and how often a
    client saw processing → queued (a retry waiting for its time, which is allowed)."""
    backwards, retries = [], 0
    for video, seen in ledger.seen.items():
        statuses = [s for _, s in sorted(seen)]
        ended = next((i for i, s in enumerate(statuses) if s in TERMINAL), None)
        if ended is not None and any(s != statuses[ended] for s in statuses[ended:]):
            backwards.append(video)
        pairs = zip(statuses, statuses[1:], strict=False)
        retries += sum(a == "processing" and b == "queued" for a, b in pairs)
    return sorted(backwards), retries


def _unplanned_exits(faults: list[Fault], events: list[tuple[float, str]]) -> dict[str, int]:
    exits = Counter(line.split(" ", 1)[0] for _, line in events if " exited;" in line)
    planned = Counter(PLANNED_EXITS[f.kind] for f in faults if f.kind in PLANNED_EXITS)
    return {unit: n - planned[unit] for unit, n in exits.items() if n > planned[unit]}


def _recovery(faults: list[Fault], rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per fault kind: seconds from the end of each fault to the first job completed after it."""
    done = sorted(r["processed_at"].timestamp() for r in rows if r["processed_at"] is not None
                  and r["status"] == "processed")  # fmt: skip
    found: dict[str, list[float]] = defaultdict(list)
    for fault in faults:
        after = next((t for t in done if t > fault.ended), None)
        if after is not None:
            found[fault.kind].append(round(after - fault.ended, 1))
    return dict(found)


def _killed_job_restarts(faults: list[Fault], by_id: dict[int, Any]) -> dict[str, list[float]]:
    """For the jobs a killed worker process held: seconds until a worker claimed them again (0
    when the job had just ended). The target: the lease (which must run out first, as a stalled
    worker and a dead one look the same) + 10 s. A job never seen again counts as the soak's
    whole length."""
    found: dict[str, list[float]] = defaultdict(list)
    for fault in faults:
        for job in fault.killed_jobs:
            if job in by_id:
                found[fault.kind].append(fault.reclaimed.get(job, float("inf")))
    return dict(found)


def _check_outputs(
    stack: Stack, rows: list[dict[str, Any]], ledger: Ledger
) -> list[dict[str, Any]]:
    """Every processed video's output, downloaded as its owner would and read by ffprobe."""
    tokens = ledger.tokens
    bad = []
    with httpx.Client(base_url=stack.url, timeout=60, follow_redirects=True) as client, \
            tempfile.TemporaryDirectory() as folder:  # fmt: skip
        for row in (r for r in rows if r["status"] == "processed"):
            path = Path(folder) / f"{row['id']}.mp4"
            auth = {"Authorization": f"Bearer {tokens[row['owner_id']]}"}
            response = client.get(f"/api/videos/{row['id']}/file?variant=processed", headers=auth)
            if response.status_code != 200:
                bad.append({"id": row["id"], "why": f"download answered {response.status_code}"})
                continue
            path.write_bytes(response.content)
            problem = _not_a_reel(path)
            if problem:
                bad.append({"id": row["id"], "why": problem})
            path.unlink()
    return bad


def _not_a_reel(path: Path) -> str | None:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                            str(path)], capture_output=True, text=True, timeout=60)  # fmt: skip
    if probe.returncode != 0:
        return f"ffprobe: {probe.stderr[:200]}"
    info = json.loads(probe.stdout)
    video = [s for s in info.get("streams", []) if s.get("codec_type") == "video"]
    if "mp4" not in info.get("format", {}).get("format_name", ""):
        return "not an MP4"
    if not video or video[0].get("codec_name") != "h264":
        return "no H.264 video stream"
    if (video[0].get("width"), video[0].get("height")) != (1280, 720):
        return f"{video[0].get('width')}x{video[0].get('height')}, not 1280x720"
    if float(info["format"].get("duration", 0)) <= 0:
        return "no duration"
    return None


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0
