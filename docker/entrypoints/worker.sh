#!/bin/sh
# The compute tier, as compose, `make run`, `make stack` and the tests all run it. Concurrency
# defaults to the WORKER_CONCURRENCY setting (one process per core); FFmpeg threads follow
# (cores / concurrency). WORKER_NAME sets the Celery node name (default celery@hostname).
exec celery -A worker.celery_app worker -Q "${CELERY_QUEUE:-videos}" \
  ${WORKER_CONCURRENCY:+--concurrency "$WORKER_CONCURRENCY"} ${WORKER_NAME:+-n "$WORKER_NAME"} \
  --loglevel "${LOG_LEVEL:-INFO}" --without-gossip --without-mingle
