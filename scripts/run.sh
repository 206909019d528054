#!/usr/bin/env bash
# `make run`: migrations, one Celery worker and the API on http://127.0.0.1:8000, on the embedded
# default (SQLite, Celery's filesystem broker, storage under ./var/). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
PORT=${PORT:-8000}
.venv/bin/alembic upgrade head
.venv/bin/celery -A worker.celery_app worker -Q "${CELERY_QUEUE:-videos}" --loglevel INFO &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
cat <<TXT

reelforge is starting on http://127.0.0.1:$PORT  (API docs: http://127.0.0.1:$PORT/docs)
Walkthrough, in another terminal:
  curl -s -X POST localhost:$PORT/api/auth/signup -H 'content-type: application/json' \\
    -d '{"first_name":"Ada","last_name":"L","email":"ada@example.com","password1":"s3cret-pass","password2":"s3cret-pass","city":"Bogota"}'
  TOKEN=\$(curl -s -X POST localhost:$PORT/api/auth/login -H 'content-type: application/json' \\
    -d '{"email":"ada@example.com","password":"s3cret-pass"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  ffmpeg -v error -f lavfi -i testsrc2=s=1920x1080:d=5 -f lavfi -i sine=d=5 -shortest -y /tmp/clip.mp4
  curl -s -X POST localhost:$PORT/api/videos/upload -H "Authorization: Bearer \$TOKEN" \\
    -F video_file=@/tmp/clip.mp4 -F title='My first reel'
  curl -s localhost:$PORT/api/videos/1 -H "Authorization: Bearer \$TOKEN"        # poll until "processed"
  curl -s -o /tmp/out.mp4 "localhost:$PORT/api/videos/1/file?variant=processed" -H "Authorization: Bearer \$TOKEN"
Ctrl-C stops the API and the worker.

TXT
.venv/bin/uvicorn app.main:app --host 127.0.0.1 --port "$PORT"
