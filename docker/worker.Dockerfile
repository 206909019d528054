# Compute tier: Celery worker with FFmpeg. Build from the repo root:
#   docker build -f docker/worker.Dockerfile -t reelforge-worker .
# Runtime dependencies only (requirements.lock; the dev tools are in requirements-dev.lock).
# Pin the base for a reproducible build: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PROMETHEUS_MULTIPROC_DIR=/tmp/metrics LOG_FORMAT=json \
    TEMP_DIR=/tmp/jobs
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core fontconfig \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock
COPY app ./app
COPY worker ./worker
COPY core ./core
COPY alembic.ini ./
COPY docker/entrypoints ./docker/entrypoints
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --home /app reelforge \
 && mkdir -p /app/var /tmp/metrics /tmp/jobs && chown -R reelforge /app/var /tmp/metrics /tmp/jobs
USER reelforge
EXPOSE 9808
# Healthy = the Celery process answers, the database and the broker are reachable, FFmpeg exists.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-m", "worker.health"]
CMD ["docker/entrypoints/worker.sh"]
