"""`python -m devstack run` (`make run`): the embedded default — SQLite, the filesystem broker and
storage under ./var, the API on :8000 (uvicorn) and one worker; no server to install.

`python -m devstack stack` (`make stack`): the production-shaped topology natively — nginx on
:8080 → gunicorn → Postgres, Redis and an S3 server (moto) it starts, plus a worker with the
compose command line; the tiers share no folder. A process or server that exits is restarted
with backoff, its data kept (devstack/supervisor.py); Ctrl-C stops everything either way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from devstack import running
from devstack.servers import REPO
from devstack.services import Services
from devstack.stack import Stack
from devstack.supervisor import Supervisor

WALKTHROUGH = """
reelforge is up on {url}  (API docs: {url}/docs)
Open {url}/app/ in a browser, or, in another terminal (the CLI; curl in docs/api.md):
  export REELFORGE_URL={url} PATH="$PWD/.venv/bin:$PATH"
  ffmpeg -v error -f lavfi -i testsrc2=s=1920x1080:d=5 -f lavfi -i sine=d=5 -shortest -y /tmp/clip.mp4
  reelforge signup --email ada@example.com --first-name Ada --last-name L --city Bogota
  reelforge upload /tmp/clip.mp4 --title 'My first reel' --wait
  reelforge ls
  reelforge download 1 -o /tmp/out.mp4
Ctrl-C stops everything.
"""


# Where a devstack keeps its state and pidfile: ./var, or DEVSTACK_DIR (the tests' own folder).
VAR = Path(os.environ.get("DEVSTACK_DIR") or REPO / "var")


def embedded() -> Stack:
    root = VAR
    settings = {"ENVIRONMENT": os.environ.get("ENVIRONMENT", "dev")}
    # jwt_secret=None: JWT_SECRET comes from the environment or .env, as in any deployment.
    return Stack(root, Services.embedded(root), port=int(os.environ.get("PORT", "8000")),
                 settings=settings, jwt_secret=None, console=True)  # fmt: skip


def production_shaped() -> Stack:
    root = VAR / "stack"
    concurrency = os.environ.get("WORKER_CONCURRENCY", "1")
    return Stack(root, Services.start(root, s3=True), api_server="gunicorn", edge=True,
                 edge_port=int(os.environ.get("STACK_PORT", "8080")),
                 worker_metrics_port=int(os.environ.get("WORKER_METRICS_PORT", "9808")),
                 settings={"ENVIRONMENT": "test", "WORKER_CONCURRENCY": concurrency,
                           "JWT_SECRET": os.environ.get("JWT_SECRET") or secrets.token_urlsafe(32)})  # fmt: skip


def _serve(stack: Stack, banner: str) -> int:
    """Start the stack and keep it running: a process or server that exits is restarted with
    backoff (devstack/supervisor.py) until Ctrl-C, TERM or a closed terminal (HUP) stops it."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        stack.start()
        supervisor = Supervisor.of(stack, say=_say(stack))
        print(banner, flush=True)
        while not stopping:
            supervisor.tick()
            time.sleep(0.25)
        return 0
    finally:
        stack.stop()


def _say(stack: Stack) -> Callable[[str], None]:
    def say(line: str) -> None:
        print(f"[supervisor] {line} (logs: {stack.root}/logs/)", file=sys.stderr, flush=True)

    return say


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("mode", choices=["run", "stack"])
    mode = parser.parse_args().mode
    pidfile = VAR / f"devstack-{mode}.pid"
    other = running.claim(pidfile)
    if other is not None:
        port = (
            os.environ.get("PORT", "8000")
            if mode == "run"
            else os.environ.get("STACK_PORT", "8080")
        )
        print(f"reelforge is already running on :{port} (pid {other})", file=sys.stderr)
        return 1
    try:
        return _main(mode)
    finally:
        running.release(pidfile)


def _main(mode: str) -> int:
    if mode == "run":
        stack = embedded()
        return _serve(stack, WALKTHROUGH.format(url=stack.url))
    stack = production_shaped()
    s3 = stack.services.s3_url
    banner = (f"\nreelforge production-shaped stack is up:\n"
              f"  edge (nginx)     {stack.url}   ← use this one\n"
              f"  API (gunicorn)   {stack.base_url}   (/metrics)\n"
              f"  worker metrics   http://127.0.0.1:{stack.worker_metrics_port}/metrics\n"
              f"  S3 (moto)        {s3}   bucket 'reelforge'\n"
              f"  logs             {stack.root}/logs/\nCtrl-C stops everything.\n")  # fmt: skip
    return _serve(stack, banner)


if __name__ == "__main__":
    raise SystemExit(main())
