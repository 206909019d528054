#!/bin/sh
# Webhook deliveries: their own small Celery worker on the webhooks queue, with threads (the
# work is waiting on the network), so a slow receiver never takes a video-processing slot.
# At most WEBHOOK_CONCURRENCY deliveries run at once, each bounded by WEBHOOK_TIMEOUT_SECONDS.
export WORKER_ROLE=webhooks
exec celery -A worker.celery_app worker -Q "${WEBHOOK_QUEUE:-webhooks}" -P threads \
  --concurrency "${WEBHOOK_CONCURRENCY:-8}" -n "${WEBHOOK_WORKER_NAME:-webhooks@%h}" \
  --loglevel "${LOG_LEVEL:-INFO}" --without-gossip --without-mingle
