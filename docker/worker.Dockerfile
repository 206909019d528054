# Compute tier: Celery worker with FFmpeg. Build from the repo root:
#   docker build -f docker/worker.Dockerfile -t reelforge-worker .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics LOG_FORMAT=json TEMP_DIR=/tmp/jobs
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
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9808/metrics', timeout=3).status != 200)"
CMD ["docker/entrypoints/worker.sh"]
