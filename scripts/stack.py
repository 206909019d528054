"""`make stack`: the production-shaped topology natively, no Docker needed.

nginx (nginx/ config) on http://127.0.0.1:8080 → gunicorn (app/gunicorn_conf.py) → Postgres,
Redis and an S3-compatible server (moto), plus a Celery worker with the compose command line.
Everything is started here and stopped on Ctrl-C. The topology tests run this same code.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.native_stack import NativeStack  # noqa: E402


def main() -> int:
    port = int(os.environ.get("STACK_PORT", "8080"))
    root = REPO / "var" / "stack"
    stack = NativeStack(root, port=port, worker_metrics_port=int(os.environ.get("WORKER_METRICS_PORT", "9808")),
                        app_env={"WORKER_CONCURRENCY": os.environ.get("WORKER_CONCURRENCY", "1")})  # fmt: skip
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start()
        assert stack.s3 is not None
        print(
            f"\nreelforge production-shaped stack is up:\n"
            f"  edge (nginx)     {stack.url}   ← use this one\n"
            f"  API (gunicorn)   {stack.api_url}   (/metrics)\n"
            f"  worker metrics   http://127.0.0.1:{stack.worker_metrics_port}/metrics\n"
            f"  S3 (moto)        {stack.s3.url}   bucket 'reelforge'\n"
            f"  logs             {root}/logs/\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            for name, proc in stack.processes.items():
                if not proc.alive():
                    print(f"{name} exited; see {proc.log}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
