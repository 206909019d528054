#!/bin/sh
# The compute tier, as compose and `make stack` both run it.
exec celery -A worker.celery_app worker -Q "${CELERY_QUEUE:-videos}" \
  --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel "${LOG_LEVEL:-INFO}" \
  --without-gossip --without-mingle
