"""`python -m bench.cpu`: the API CPU one upload costs, to a fraction of a millisecond — for
deciding whether a change to the upload path is worth it before a web-tier run.

The web-tier ratios (bench/web.py) answer "how many uploads/s"; on a shared 2-core box they move
±5 % between runs on identical code, so a 1–2 ms change per upload drowns there. Here:

- each target is one gunicorn worker (the production config), reached directly (no nginx);
- uploads go one at a time, the targets **interleaved upload by upload** (order rotating), so
  drift on the machine hits every target alike;
- the worker's CPU is read from /proc (schedstat, nanoseconds) around each upload: its main
  thread (the event loop) and its other threads (file writes, the broker publish) apart; and
  what Postgres (every backend) and Redis spent meanwhile (`pg+redis`; the bare endpoint uses
  neither: for it, the figure is their background work);
- `--concurrency N` sends N uploads at once per batch and shares each batch's CPU out over
  them. Measured (18 MB clip): per-upload API CPU *rises* with concurrency for the floor
  (~24.5 ms alone, ~30.5 ms 32 at a time) and reelforge (~26 → ~33), while bare's falls
  (~29 → ~26) — closer to what Locust shows at 300 users (bench/machine.py) than one at a time.

Targets: `reelforge`, `floor` (bench/floor_app.py), `bare` (bench/bare_app.py), and with
`--variant-setting K=V` and/or `--variant-repo PATH` a `variant`: reelforge with other settings,
or another checkout's code (e.g. a `git worktree` with the change to judge), against the same
Postgres and Redis.

Caveat, measured: a handler that drains the socket faster is handed more, smaller chunks, and
each chunk has a cost — bare costs *more* API CPU per upload than the floor here, though it
serves more uploads/s under load. Compare variants of one handler, not different handlers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

from bench.runner import make_clip
from bench.web import BENCH_APP, Janitor, token
from devstack.servers import REPO, Postgres, Redis
from devstack.services import Services
from devstack.stack import Stack

BOUNDARY = "reelforge-cpu-bench-boundary"
SEND_BYTES = 256 * 1024


def _body(clip: Path) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nbench\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video_file"; '
        'filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    return head + clip.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(port: int, bearer: str, body: bytes) -> None:
    head = (
        f"POST /api/videos/upload HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {bearer}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        view = memoryview(body)
        for start in range(0, len(body), SEND_BYTES):
            sock.sendall(view[start : start + SEND_BYTES])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    if b" 202 " not in response.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"upload refused: {response[:300]!r}")


def _worker_pid(stack: Stack) -> int:
    master = stack.processes["api"].proc
    assert master is not None
    children = psutil.Process(master.pid).children()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0].pid)


def _thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each thread of a process, by thread id."""
    seconds: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            seconds[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except OSError:  # the thread ended between the listing and the read
            continue
    return seconds


def _worker_spent(pid: int, before: dict[int, float]) -> tuple[float, float]:
    """(main thread, other threads) CPU spent since `before` (from _thread_cpu), by the threads
    alive now: a pool thread that exited in between is not subtracted (at 128 uploads at once
    that made batches negative), one that started counts whole."""
    after = _thread_cpu(pid)
    main = after.pop(pid, 0.0) - before.get(pid, 0.0)
    return main, _spent(before, after)  # `after` no longer holds the main thread


def _stacks(root: Path, services: Services, variant: dict[str, Any] | None) -> dict[str, Stack]:
    one: dict[str, Any] = {"api_server": "gunicorn", "gunicorn_workers": 1}
    app = {**BENCH_APP, "MAX_UPLOAD_BYTES": str(2 * 2**30)}
    reel = Stack(root / "reelforge", services, settings=app, **one)
    floor = {**BENCH_APP, "APP_MODULE": "bench.floor_app:app"}
    bare = {"APP_MODULE": "bench.bare_app:app", "BARE_SPOOL_DIR": str(root)}
    stacks = {
        "reelforge": reel,
        "floor": Stack(root / "floor", services, settings=floor, jwt_secret=reel.jwt_secret, **one),
        "bare": Stack(root / "bare", Services.embedded(root / "bare"), settings=bare, **one),
    }
    if variant is not None:
        stacks["variant"] = Stack(root / "variant", services, jwt_secret=reel.jwt_secret,
                                  settings={**app, **variant["settings"]},
                                  repo=variant["repo"], **one)  # fmt: skip
    return stacks


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    totals = [(main + others) * 1000 for main, others in samples]
    tenths = statistics.quantiles(totals, n=10)
    return {
        "median_ms": round(statistics.median(totals), 2),
        "mean_ms": round(statistics.mean(totals), 2),
        "main_ms": round(statistics.mean(main for main, _ in samples) * 1000, 2),
        "threads_ms": round(statistics.mean(others for _, others in samples) * 1000, 2),
        "p10_ms": round(tenths[0], 2),
        "p90_ms": round(tenths[-1], 2),
    }


def _services_cpu(services: Services) -> dict[int, float]:
    """CPU seconds so far of each Postgres process (every backend) and of Redis, by pid, from
    schedstat."""
    marks = [str(server.root) for server in services.owned if isinstance(server, Postgres)]
    marks += [str(server.dir) for server in services.owned if isinstance(server, Redis)]
    seconds: dict[int, float] = {}
    for proc in psutil.process_iter(["cmdline"]):
        if any(mark in " ".join(proc.info["cmdline"] or []) for mark in marks):
            try:
                family = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                try:
                    seconds[member.pid] = sum(_thread_cpu(member.pid).values())
                except OSError:  # a backend that ended since the listing
                    continue
    return seconds


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent in between by the processes alive at the end (a backend that ended in between
    is not subtracted; one that started counts whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def cpu_per_upload(
    uploads: int,
    clip: Path,
    root: Path,
    variant: dict[str, Any] | None = None,
    concurrency: int = 1,
) -> dict[str, Any]:
    """`uploads` measured uploads per target, interleaved; each target's per-upload CPU.
    With `concurrency` N, uploads go in batches of N at once (at least two batches; `uploads`
    rounded up to whole batches) and each batch's CPU is shared out over its N uploads."""
    batches = max(2, -(-uploads // concurrency))
    services = Services.start(root / "services")
    stacks = _stacks(root, services, variant)
    janitors = [Janitor(s.storage_dir) for name, s in stacks.items() if name != "bare"]
    try:
        stacks["reelforge"].start(worker=False)  # runs the migrations the floor's insert needs
        for name, stack in stacks.items():
            if name != "reelforge":
                stack.start_api()
        for janitor in janitors:
            janitor.start()
        body, bearer = _body(clip), token(stacks["reelforge"].url)
        names = list(stacks)
        pids = {name: _worker_pid(stacks[name]) for name in names}
        for name in names:  # warm-up: imports, pools, prepared statements
            for _ in range(3):
                _upload(stacks[name].port, bearer, body)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        backing: dict[str, list[float]] = {name: [] for name in names}
        pool = ThreadPoolExecutor(concurrency)
        for i in range(batches):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                before, svc = _thread_cpu(pids[name]), _services_cpu(services)
                ports = [stacks[name].port] * concurrency
                list(pool.map(_upload, ports, [bearer] * concurrency, [body] * concurrency))
                main, others = _worker_spent(pids[name], before)
                backing[name].append(_spent(svc, _services_cpu(services)) / concurrency)
                samples[name].append((main / concurrency, others / concurrency))
        pool.shutdown()
    finally:
        for janitor in janitors:
            janitor.stop.set()
        for stack in stacks.values():
            stack.stop_processes()
        services.stop()
    result: dict[str, Any] = {"uploads": batches * concurrency, "concurrency": concurrency,
                              "clip_mb": round(clip.stat().st_size / 1e6, 1)}  # fmt: skip
    result.update({name: _summary(values) for name, values in samples.items()})
    for name, values in backing.items():
        result[name]["postgres_redis_ms"] = round(statistics.mean(values) * 1000, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--uploads", type=int, default=200, help="measured uploads per target")
    parser.add_argument("--clip-seconds", type=int, default=60, help="60: the 18 MB clip")
    parser.add_argument("--variant-setting", action="append", default=[], metavar="K=V")
    parser.add_argument("--variant-repo", type=Path, help="another checkout's code as the variant")
    parser.add_argument("--concurrency", type=int, default=1, help="uploads at once per batch")
    args = parser.parse_args()
    if args.uploads < 2 or args.concurrency < 1:
        parser.error("--uploads must be at least 2 and --concurrency at least 1")
    variant = None
    if args.variant_setting or args.variant_repo:
        settings = dict(item.split("=", 1) for item in args.variant_setting)
        variant = {"settings": settings, "repo": (args.variant_repo or REPO).resolve()}
    clip = make_clip(
        REPO / "var" / "bench" / f"clip-{args.clip_seconds}s-1080p.mp4", args.clip_seconds
    )
    root = Path(tempfile.mkdtemp(prefix="reelforge-bench-cpu-"))
    try:
        result = cpu_per_upload(args.uploads, clip, root, variant, args.concurrency)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(f"\nAPI CPU per upload ({result['clip_mb']} MB clip, {result['uploads']} each, "
          f"{args.concurrency} at a time, interleaved):")  # fmt: skip
    print(
        f"{'target':<10} {'median':>7} {'mean':>7} {'loop':>7} {'threads':>8} {'p10':>7} {'p90':>7}"
        f" {'pg+redis':>9}"
    )
    for name in (k for k in ("bare", "floor", "reelforge", "variant") if k in result):
        r = result[name]
        print(f"{name:<10} {r['median_ms']:>7} {r['mean_ms']:>7} {r['main_ms']:>7} "
              f"{r['threads_ms']:>8} {r['p10_ms']:>7} {r['p90_ms']:>7} {r['postgres_redis_ms']:>9}")  # fmt: skip


if __name__ == "__main__":
    main()
