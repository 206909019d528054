#!/bin/sh
# The compute tier, as compose and `make stack` both run it. Concurrency defaults to the
# WORKER_CONCURRENCY setting (one process per core); FFmpeg threads follow (cores / concurrency).
exec celery -A worker.celery_app worker -Q "${CELERY_QUEUE:-videos}" \
  ${WORKER_CONCURRENCY:+--concurrency "$WORKER_CONCURRENCY"} --loglevel "${LOG_LEVEL:-INFO}" \
  --without-gossip --without-mingle
