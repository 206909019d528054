# API tier: gunicorn + uvicorn workers. Build from the repo root:
#   docker build -f docker/api.Dockerfile -t reelforge-api .
# Runtime dependencies only (requirements.lock; the dev tools are in requirements-dev.lock).
# Pin the base for a reproducible build: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest>
# (docs/deploy.md, "Images").
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PROMETHEUS_MULTIPROC_DIR=/tmp/metrics LOG_FORMAT=json
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
 && mkdir -p /app/var /tmp/metrics && chown -R reelforge /app/var /tmp/metrics
USER reelforge
# X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (compose sets nginx's address).
ENV GUNICORN_BIND=0.0.0.0:8000 FORWARDED_ALLOW_IPS=127.0.0.1
EXPOSE 8000
# Ready = the database, the broker and the bucket answer (GET /ready; no FFmpeg on this tier).
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=3).status != 200)"
CMD ["docker/entrypoints/api.sh"]
