# Stand-in for minio/minio and minio/mc: moto's S3-compatible server behind a `minio server`
# command, and an `mc` covering what docker-compose.yml uses.
FROM python:3.11-slim
ARG MOTO_VERSION
RUN pip install --no-cache-dir "moto[server]==${MOTO_VERSION}" \
 && apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
COPY minio /usr/local/bin/minio
COPY mc /usr/local/bin/mc
EXPOSE 9000
ENTRYPOINT ["/usr/local/bin/minio"]
CMD ["server", "/data"]
