"""Clients that see progress (`make bench`, stage "live"):

- ETA accuracy: a backlog of real jobs on a Postgres + Redis stack; every job's eta_seconds is
  sampled through the API as it waits; at 25/50/75 % of each job's wait the ETA is compared with
  the time it really took (absolute error ÷ the true remaining time).
- Webhook latency: a signed delivery per processed job to a local receiver; from the job's
  processed_at (the worker's terminal write) to the receiver's clock.
- SSE fan-out: N concurrent streams on ONE uvicorn process; the API's RSS per open stream, and
  the delay from a progress write + notice (what the worker does) to each client's event.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.scheduling import _stack, _times, _upload
from bench.web import token
from core.jobs.events import RedisEventSink, event_now
from core.settings import Settings
from devstack.servers import wait_until
from devstack.services import Services
from devstack.stack import Stack

MARKS = (0.25, 0.5, 0.75)


class _Receiver:
    """Records when each webhook delivery arrived (wall clock)."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.arrivals[json.loads(body)["data"]["video_id"]] = time.time()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def eta_and_webhooks(clip: Path, jobs: int, root: Path) -> dict[str, Any]:
    stack = _stack(root / "live-eta", WEBHOOK_ALLOW_HTTP="true",
                   WEBHOOK_ALLOW_PRIVATE_NETWORKS="true", MAX_QUEUED_JOBS_PER_USER="0")  # fmt: skip
    receiver = _Receiver()
    try:
        auth = {"Authorization": f"Bearer {token(stack.url)}"}
        hook = httpx.post(stack.url + "/api/webhooks", headers=auth, json={"url": receiver.url},
                          timeout=30)  # fmt: skip
        hook.raise_for_status()
        warm = [_upload(stack.url, auth, clip, f"warm{i}") for i in range(2)]  # measured first
        stack.start_worker()
        stack.start_webhooks()
        wait_until(lambda: _done(stack, warm), 600, "the warm-up jobs", interval=0.5)
        stack.stop_worker()
        ids = [_upload(stack.url, auth, clip, f"eta{i}") for i in range(jobs)]
        samples: dict[int, list[tuple[float, int]]] = {i: [] for i in ids}
        stack.start_worker()
        with httpx.Client(base_url=stack.url, headers=auth, timeout=30) as http:
            while not _done(stack, ids):
                now = time.time()
                for video in http.get("/api/videos", params={"limit": 100}).json():
                    if video["video_id"] in samples and video["eta_seconds"] is not None and \
                            video["status"] in ("queued", "processing"):  # fmt: skip
                        samples[video["video_id"]].append((now, video["eta_seconds"]))
                time.sleep(0.25)
        times = _times(stack, ids + warm)
        wait_until(lambda: len(receiver.arrivals) >= len(ids) + len(warm), 120, "webhooks")
    finally:
        receiver.server.shutdown()
        stack.stop()
    errors: list[tuple[float, float]] = []
    absolute: list[float] = []
    for vid in ids:
        _, _, finished, uploaded = times[vid]
        wait = finished - uploaded
        for mark in MARKS:
            at = uploaded + mark * wait
            near = min(samples[vid], key=lambda s: abs(s[0] - at), default=None)
            if near is None or abs(near[0] - at) > max(1.0, 0.1 * wait):
                continue
            actual = finished - near[0]
            if actual > 0:
                errors.append((mark, abs(near[1] - actual) / actual))
                absolute.append(abs(near[1] - actual))
    latencies = [receiver.arrivals[v] - times[v][2] for v in ids + warm if v in receiver.arrivals]

    def share(values: list[float], pct: int) -> float | None:
        return round(_pct_raw(values, pct), 3) if values else None

    by_mark = {f"{int(m * 100)}%": share([e for mk, e in errors if mk == m], 50) for m in MARKS}
    return {
        "jobs": jobs,
        "samples": len(errors),
        "eta_error_median": share([e for _, e in errors], 50),
        "eta_error_by_mark": by_mark,
        "eta_error_p90": share([e for _, e in errors], 90),
        "eta_abs_error_median_s": round(_pct_raw(absolute, 50), 1) if absolute else None,
        "job_seconds_mean": round(sum(times[v][2] - times[v][1] for v in ids) / len(ids), 1),
        "webhook_latency_ms": {
            "p50": round(1000 * sorted(latencies)[len(latencies) // 2]),
            "p95": round(1000 * _pct_raw(latencies, 95)),
            "count": len(latencies),
        },  # fmt: skip
    }


def _pct_raw(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def _done(stack: Stack, ids: list[int]) -> bool:
    return all(status in ("processed", "failed") for status, *_ in _times(stack, ids).values())


# ------------------------------------------------------------------------------ SSE fan-out
def sse_fanout(streams: int, rounds: int, root: Path) -> dict[str, Any]:
    """`streams` open streams on one uvicorn process; `rounds` × 50 progress notices."""
    folder = root / "live-sse"
    stack = Stack(folder, Services.start(folder), settings={"ENVIRONMENT": "test",
                  "BCRYPT_ROUNDS": "4", "RATE_LIMIT_ENABLED": "false"})  # fmt: skip
    try:
        stack.start(worker=False)
        auth = {"Authorization": f"Bearer {token(stack.url)}"}
        ids = _processing_rows(stack, streams)
        api = psutil.Process(stack.api.proc.pid)  # type: ignore[union-attr]
        before = api.memory_info().rss
        result = asyncio.run(_fan(stack, auth, ids, rounds, api))
        result["rss_before_mb"] = round(before / 2**20, 1)
        result["rss_per_stream_kb"] = round((result.pop("rss_open") - before) / streams / 1024, 1)
        return {"streams": streams, **result}
    finally:
        stack.stop()


def _processing_rows(stack: Stack, count: int) -> list[int]:
    """`count` jobs of the bench user, marked processing (as if claimed), straight in the DB."""
    import psycopg

    url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(url) as conn:
        owner = conn.execute('SELECT id FROM "user" ORDER BY id DESC LIMIT 1').fetchone()[0]  # type: ignore[index]
        rows = conn.execute(
            "INSERT INTO video (owner_id, title, status, progress, task_id, attempts, claim_token,"
            " lease_until, original_key, original_content_type, original_bytes, published,"
            " priority, uploaded_at, enqueued_at, started_at)"
            " SELECT %s, 'sse', 'processing', 1, gen_random_uuid()::text, 1, 'bench',"
            " now() + interval '1 hour', 'k', 'video/mp4', 1, false, 1, now(), now(), now()"
            " FROM generate_series(1, %s) RETURNING id", (owner, count)).fetchall()  # fmt: skip
    return [r[0] for r in rows]


async def _fan(stack: Stack, auth: dict[str, str], ids: list[int], rounds: int,
               api: psutil.Process) -> dict[str, Any]:  # fmt: skip
    sent: dict[tuple[int, int], float] = {}
    delays: list[float] = []
    opened = asyncio.Event()
    ready = 0
    limits = httpx.Limits(max_connections=len(ids) + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(120.0, connect=60.0, pool=60.0)

    async with httpx.AsyncClient(base_url=stack.url, headers=auth, limits=limits,
                                 timeout=timeout) as http:  # fmt: skip

        async def listen(video_id: int) -> None:
            nonlocal ready
            async with http.stream("GET", f"/api/videos/{video_id}/events") as response:
                first = True
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    if first:
                        first, ready = False, ready + 1
                        if ready == len(ids):
                            opened.set()
                        continue
                    state = json.loads(line[5:])
                    at = sent.get((video_id, state["progress"]))
                    if at is not None:
                        delays.append(time.time() - at)

        tasks = [asyncio.create_task(listen(v)) for v in ids]
        started = time.monotonic()
        await asyncio.wait_for(opened.wait(), 300)
        open_seconds = time.monotonic() - started
        await asyncio.sleep(2)
        rss_open = api.memory_info().rss
        sink = RedisEventSink(Settings(celery_broker_url=stack.services.broker_url))
        import psycopg

        url = stack.services.database_url.replace("postgresql+asyncpg", "postgresql")
        with psycopg.connect(url, autocommit=True) as conn:
            for r in range(rounds):
                for video_id in random.sample(ids, min(50, len(ids))):
                    progress = 2 + r
                    conn.execute("UPDATE video SET progress = %s WHERE id = %s",
                                 (progress, video_id))  # fmt: skip
                    event = event_now(video_id, "processing", progress)
                    sent[(video_id, progress)] = event.at
                    await asyncio.to_thread(sink, event)
                await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "open_seconds": round(open_seconds, 1),
        "rss_open": rss_open,
        "rss_open_mb": round(rss_open / 2**20, 1),
        "events_sent": len(sent),
        "events_received": len(delays),
        "delivery_ms": {
            "p50": round(1000 * _pct_raw(delays, 50), 1) if delays else None,
            "p95": round(1000 * _pct_raw(delays, 95), 1) if delays else None,
            "max": round(1000 * max(delays), 1) if delays else None,
        },  # fmt: skip
    }
