"""`docker-compose up` as a new user runs it: the real Dockerfiles, the real compose file, then an
upload → processed → download through nginx, readiness of both tiers, and production images."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_client import Api
from tests.docker import engine as docker
from tests.docker.conftest import REPORT
from tests.docker.project import Project, secret, wait_http

DEV_LOCK = docker.ROOT / "requirements-dev.lock"
RUNTIME_LOCK = docker.ROOT / "requirements.lock"


def _pins(path: Path) -> dict[str, str]:
    return {
        m[1].lower(): m[2]
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)
    }


@pytest.fixture(scope="module")
def stack(
    compose: list[str], images: dict[str, str], clip_small: Path
) -> Iterator[tuple[Project, Api]]:
    http_port, s3_port, tag = docker.free_ports(3)
    project = Project(compose, f"rftest{tag}", [docker.ROOT / "docker-compose.yml"], {
        "JWT_SECRET": secret() + secret(), "POSTGRES_PASSWORD": secret(),
        "MINIO_ROOT_USER": "root-" + secret()[:8], "MINIO_ROOT_PASSWORD": secret(),
        "S3_ACCESS_KEY_ID": "app-" + secret()[:8], "S3_SECRET_ACCESS_KEY": secret(),
        "HTTP_PORT": f"127.0.0.1:{http_port}", "MINIO_PORT": str(s3_port),
        "S3_PUBLIC_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
    })  # fmt: skip
    started = time.monotonic()
    try:
        project.up()
        base = f"http://127.0.0.1:{http_port}"
        wait_http(base + "/health")
        api = Api(base)
        auth = api.user()
        first = api.upload(auth, clip_small, "cold start")
        assert first.status_code == 202, first.text
        REPORT.append(
            f"cold start: compose up (images built) → first 202 in {time.monotonic() - started:.1f} s"
        )
        yield project, api
    finally:
        project.down()


def test_upload_is_processed_and_downloaded_through_nginx(
    stack: tuple[Project, Api], clip_small: Path, tmp_path: Path
) -> None:
    project, api = stack
    auth = api.user()
    response = api.upload(auth, clip_small, "compose smoke")
    assert response.status_code == 202, response.text
    video = api.wait_for(auth, response.json()["video_id"], timeout=240)
    assert video["status"] == "processed", (video, project.logs())
    download = api.http.get(video["processed_url"], headers=auth, follow_redirects=True)
    assert download.status_code == 200, download.text[:300]
    out = tmp_path / "processed.mp4"
    out.write_bytes(download.content)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", str(out)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert probe.stdout.strip() == "1280,720"


def test_api_is_ready_and_the_worker_healthy(stack: tuple[Project, Api]) -> None:
    project, api = stack
    ready = api.http.get("/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"database", "broker", "storage"}
    project.wait_healthy("api", "worker")
    report = project.exec("worker", "python", "-m", "worker.health")
    assert report.split() == ["process:", "ok", "database:", "ok", "broker:", "ok", "ffmpeg:", "ok"]


def test_worker_health_fails_when_the_broker_is_gone(stack: tuple[Project, Api]) -> None:
    project, _ = stack
    project.cmd("stop", "redis")
    try:
        result = docker.run("docker", "exec", project.container("worker"), "python", "-m",
                            "worker.health", check=False, timeout=60)  # fmt: skip
        assert result.returncode == 1
        assert "broker: error" in result.stdout and "database: ok" in result.stdout
    finally:
        project.cmd("start", "redis")
        project.wait_healthy("redis")


@pytest.mark.parametrize("image", ["reelforge-api", "reelforge-worker"])
def test_images_hold_runtime_packages_only_and_run_as_non_root(
    image: str, images: dict[str, str]
) -> None:
    freeze = docker.run("docker", "run", "--rm", "--entrypoint", "pip", image, "freeze").stdout
    installed = {
        line.split("==")[0].lower().replace("_", "-")
        for line in freeze.splitlines()
        if "==" in line
    }
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    dev_only = set(dev) - set(runtime)
    assert {"pytest", "moto", "locust", "mypy", "ruff", "matplotlib"} <= dev_only
    assert not installed & dev_only, f"dev packages in {image}: {sorted(installed & dev_only)}"
    assert set(runtime) <= installed, f"missing from {image}: {sorted(set(runtime) - installed)}"
    uid = docker.run("docker", "run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip()
    assert uid == "10001"


def test_api_image_has_no_ffmpeg_and_worker_image_has_it(images: dict[str, str]) -> None:
    which = "import shutil,sys; print(shutil.which('ffmpeg'))"
    api = docker.run(
        "docker", "run", "--rm", "--entrypoint", "python", "reelforge-api", "-c", which
    ).stdout
    worker = docker.run(
        "docker", "run", "--rm", "--entrypoint", "python", "reelforge-worker", "-c", which
    ).stdout
    assert api.strip() == "None" and worker.strip().endswith("/ffmpeg")


def test_every_published_port_is_loopback_here(stack: tuple[Project, Api]) -> None:
    project, _ = stack
    published = project.cmd("ps")
    bindings = re.findall(r"(\d+\.\d+\.\d+\.\d+|:::?):(\d+)->", published)
    assert bindings, published
    assert all(ip == "127.0.0.1" for ip, _ in bindings), published


def test_presigned_downloads_come_from_the_s3_port(
    stack: tuple[Project, Api], clip_small: Path
) -> None:
    project, api = stack
    auth = api.user()
    video_id = api.processed_video(auth, clip_small, "redirect check")
    response = api.http.get(api.video(auth, video_id)["processed_url"], headers=auth)
    assert response.status_code in (302, 307), response.text
    assert response.headers["location"].startswith(project.env["S3_PUBLIC_ENDPOINT_URL"] + "/")
