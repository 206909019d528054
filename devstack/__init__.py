"""Start reelforge and the servers it needs, for real, on this machine: the one way to build a
stack. `make run` (embedded), `make stack` (production-shaped), the tests and the benchmark all
use it; nothing here is imported by `app`, `worker` or `core`.

    servers  Postgres, Redis, the S3 server (moto), one managed child process, port/wait helpers
    nginx    the nginx/ template rendered as the nginx image would, and a private main config
    services Services: SQLite + filesystem broker, or Postgres, Redis and S3 started here
    stack    Stack: API (uvicorn | gunicorn) + Celery worker [+ nginx edge] over Services
    __main__ `python -m devstack run|stack`
"""
