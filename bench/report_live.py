"""The "Clients that see progress" section of docs/BENCHMARKS.md (bench/live.py)."""

from __future__ import annotations

from typing import Any


def _ok(ok: bool) -> str:
    return "✅ met" if ok else "❌ **not met**"


def live_section(results: dict[str, Any]) -> list[str]:
    live = results.get("live")
    if not live:
        return []
    eta, sse = live["eta"], live["sse"]
    lines = [
        "",
        "## Clients that see progress: ETA, live streams, webhooks",
        "",
        f"**ETA accuracy** ({eta['jobs']} jobs queued at once behind a warm-up of 2, two worker "
        "slots, Postgres + Redis): each job's `eta_seconds` was read through the API every 0.25 s "
        "while it waited; at 25/50/75 % of its wait it is compared with the time it really took "
        f"(|ETA − actual| ÷ actual), {eta['samples']} samples.",
        "",
        "| at % of the wait | median error |",
        "|---|---|",
    ]
    lines += [f"| {mark} | {'–' if err is None else f'{err * 100:.0f} %'} |"
              for mark, err in eta["eta_error_by_mark"].items()]  # fmt: skip
    hook = eta["webhook_latency_ms"]
    delivery = sse["delivery_ms"]
    lines += [
        "",
        f"Overall median error **{(eta['eta_error_median'] or 0) * 100:.0f} %** (p90 "
        f"{(eta['eta_error_p90'] or 0) * 100:.0f} %); median absolute error "
        f"{eta.get('eta_abs_error_median_s')} s, for jobs of {eta.get('job_seconds_mean')} s "
        "each on average (the field is whole seconds, read every 0.25 s).",
        "",
        f"**Webhooks**: {hook['count']} signed deliveries to a local receiver, from the job's "
        f"terminal write (`processed_at`) to arrival: p50 **{hook['p50']} ms**, p95 "
        f"**{hook['p95']} ms** (the outbox row commits with the state; the message goes to the "
        "threaded deliverer on its own queue).",
        "",
        f"**Live streams (SSE)**: {sse['streams']} concurrent `GET /api/videos/{{id}}/events` "
        f"on **one** uvicorn process (opened in {sse['open_seconds']} s). API RSS "
        f"{sse['rss_before_mb']} MB before, {sse['rss_open_mb']} MB with all open: "
        f"**{sse['rss_per_stream_kb']} KB per stream**. {sse['events_sent']} progress writes "
        "(a DB update and a Redis notice, as the worker does), 50 every 0.5 s; "
        f"{sse['events_received']} events received; write → client p50 {delivery['p50']} ms, "
        f"p95 **{delivery['p95']} ms**, max {delivery['max']} ms.",
    ]
    return lines


def live_targets(results: dict[str, Any]) -> list[str]:
    live = results.get("live")
    if not live:
        return []
    eta, sse = live["eta"], live["sse"]
    median = eta["eta_error_median"]
    p95 = sse["delivery_ms"]["p95"]
    marks = ", ".join(
        f"{mark}: {'–' if err is None else f'{err * 100:.0f} %'} "
        f"{_ok(err is not None and err <= 0.25)}"
        for mark, err in eta["eta_error_by_mark"].items()
    )
    return [
        f"- ETA median absolute error ≤ 25 % — overall {(median or 0) * 100:.0f} % "
        f"{_ok(median is not None and median <= 0.25)}; at each mark of the wait: {marks}.",
        f"- SSE event delivery p95 ≤ 250 ms with {sse['streams']} streams on one process — "
        f"{p95} ms {_ok(p95 is not None and p95 <= 250)}.",
    ]
