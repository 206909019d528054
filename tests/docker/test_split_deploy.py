"""The two-machine deploy for real: docker/compose.api.yml and docker/compose.worker.yml as two
compose projects on separate networks, meeting only at the database, broker and S3 URLs of a
third ("managed") project. A job uploaded on the API side is processed on the worker side."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.api_client import Api
from tests.docker import engine as docker
from tests.docker.conftest import REPORT
from tests.docker.project import Project, secret, wait_http

HERE = Path(__file__).resolve().parent


def _bridge_gateway() -> str:
    """The host's address on Docker's default bridge: every container can reach it by IP."""
    name = docker.run("docker", "network", "inspect", "bridge", "-f",
                      '{{index .Options "com.docker.network.bridge.name"}}').stdout.strip() or "docker0"  # fmt: skip
    out = docker.run("ip", "-4", "-o", "addr", "show", name).stdout
    match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    assert match, f"no IPv4 address on {name}: {out}"
    return match.group(1)


@pytest.fixture(scope="module")
def split(compose: list[str], images: dict[str, str]) -> Iterator[dict[str, object]]:
    gw = _bridge_gateway()
    pg, rd, s3, tag, http_port, api_metrics, worker_metrics = docker.free_ports(7)
    key, key_secret, pg_pw = "app" + secret()[:8], secret(), secret()
    managed = Project(compose, f"rfmanaged{tag}", [HERE / "compose.managed.yml"], {
        "MANAGED_BIND": gw, "PG_PORT": str(pg), "REDIS_PORT": str(rd), "S3_PORT": str(s3),
        "POSTGRES_PASSWORD": pg_pw, "S3_ACCESS_KEY_ID": key, "S3_SECRET_ACCESS_KEY": key_secret,
    })  # fmt: skip
    urls = {
        "JWT_SECRET": secret() + secret(),
        "DATABASE_URL": f"postgresql+asyncpg://reelforge:{pg_pw}@{gw}:{pg}/reelforge",
        "CELERY_BROKER_URL": f"redis://{gw}:{rd}/0",
        "RATE_LIMIT_STORAGE_URI": f"redis://{gw}:{rd}/1",
        "S3_BUCKET": "reelforge-split", "S3_ENDPOINT_URL": f"http://{gw}:{s3}",
        "S3_PUBLIC_ENDPOINT_URL": f"http://{gw}:{s3}",
        "S3_ACCESS_KEY_ID": key, "S3_SECRET_ACCESS_KEY": key_secret,
    }  # fmt: skip
    api_side = Project(compose, f"rfapi{tag}", [docker.ROOT / "docker" / "compose.api.yml"], {
        **urls, "HTTP_PORT": f"127.0.0.1:{http_port}", "API_METRICS_PORT": str(api_metrics),
        "EDGE_SUBNET": "172.31.251.0/29", "EDGE_NGINX_IP": "172.31.251.2",
        "EDGE_IP_RANGE": "172.31.251.4/30", "GUNICORN_WORKERS": "2",
    })  # fmt: skip
    worker_side = Project(compose, f"rfworker{tag}", [docker.ROOT / "docker" / "compose.worker.yml"], {
        **urls, "WORKER_METRICS_HOST_PORT": str(worker_metrics), "WORKER_CONCURRENCY": "1",
    })  # fmt: skip
    started = time.monotonic()
    try:
        managed.up()
        managed.wait_healthy("postgres", "redis", "s3", timeout=120)
        boto3.client("s3", endpoint_url=urls["S3_ENDPOINT_URL"], aws_access_key_id=key,
                     aws_secret_access_key=key_secret, region_name="us-east-1",
                     ).create_bucket(Bucket=urls["S3_BUCKET"])  # fmt: skip
        api_side.cmd("--profile", "migrate", "run", "--rm", "migrate", timeout=300)
        api_side.up("api", "nginx")
        worker_side.up()
        wait_http(f"http://127.0.0.1:{http_port}/ready")
        REPORT.append(
            f"split deploy: three projects up and /ready in {time.monotonic() - started:.0f} s"
        )
        yield {"api": Api(f"http://127.0.0.1:{http_port}"), "api_side": api_side,
               "worker_ready": f"http://127.0.0.1:{worker_metrics}/ready",
               "worker_side": worker_side, "managed": managed}  # fmt: skip
    finally:
        for project in (worker_side, api_side, managed):
            project.down()


def _networks_and_volumes(project: Project, service: str) -> tuple[set[str], set[str]]:
    info = json.loads(docker.run("docker", "inspect", project.container(service)).stdout)[0]
    networks = set(info["NetworkSettings"]["Networks"])
    volumes = {m.get("Name") or m["Source"] for m in info["Mounts"]}
    return networks, volumes


def test_the_tiers_share_no_network_and_no_volume(split: dict[str, object]) -> None:
    api_side, worker_side = split["api_side"], split["worker_side"]
    assert isinstance(api_side, Project) and isinstance(worker_side, Project)
    api_nets, api_vols = _networks_and_volumes(api_side, "api")
    worker_nets, worker_vols = _networks_and_volumes(worker_side, "worker")
    assert api_nets and worker_nets and not api_nets & worker_nets, (api_nets, worker_nets)
    assert not api_vols & worker_vols
    assert "worker" not in api_side.cmd("ps", "--services") and "api" not in worker_side.cmd(
        "ps", "--services"
    )


def test_a_job_uploaded_on_the_api_side_is_processed_on_the_worker_side(
    split: dict[str, object], clip_small: Path
) -> None:
    api, worker_side = split["api"], split["worker_side"]
    assert isinstance(api, Api) and isinstance(worker_side, Project)
    auth = api.user()
    response = api.upload(auth, clip_small, "split deploy")
    assert response.status_code == 202, response.text
    video_id = response.json()["video_id"]
    video = api.wait_for(auth, video_id, timeout=240)
    assert video["status"] == "processed", (video, worker_side.logs())
    download = api.http.get(video["processed_url"], headers=auth, follow_redirects=True)
    assert download.status_code == 200 and download.content[4:8] == b"ftyp"
    worker_side.wait_healthy("worker")


def test_both_tiers_answer_ready(split: dict[str, object]) -> None:
    api = split["api"]
    assert isinstance(api, Api)
    assert api.http.get("/ready").status_code == 200
    worker = httpx.get(str(split["worker_ready"]), timeout=10)
    assert worker.status_code == 200, worker.text
    assert set(worker.json()["checks"]) == {"database", "broker", "ffmpeg"}
