"""The Docker tier's harness: a running engine (started here if none runs), the upstream images
(pulled, or stand-ins built from Debian packages when no registry answers), the project's images
built from its real Dockerfiles, and compose v1/v2 — whichever exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
BASE_IMAGE = "reelforge-standin/debian:bookworm"
STANDIN_LABEL = "org.reelforge.standin"

# upstream name → stand-in Dockerfile (built in this order: s3 builds on the python stand-in)
UPSTREAM: dict[str, str] = {
    "python:3.11-slim": "python.Dockerfile",
    "postgres:16-alpine": "postgres.Dockerfile",
    "redis:7-alpine": "redis.Dockerfile",
    "nginx:1.27-alpine": "nginx.Dockerfile",
    "minio/minio:latest": "s3.Dockerfile",
    "minio/mc:latest": "s3.Dockerfile",
}


class DockerUnavailable(RuntimeError):
    pass


def run(
    *cmd: str, timeout: float = 900, check: bool = True, **kw: object
) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=timeout, **kw
    )  # type: ignore[call-overload]
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def free_ports(count: int) -> list[int]:
    """Distinct free ports (all held open while choosing, so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("0.0.0.0", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Engine:
    """A Docker engine to talk to; `started` is True when this harness started it."""

    started: bool = False
    process: subprocess.Popen[bytes] | None = None
    report: list[str] = field(default_factory=list)

    @staticmethod
    def answers() -> bool:
        if shutil.which("docker") is None:
            return False
        return run("docker", "info", timeout=20, check=False).returncode == 0

    @classmethod
    def ensure(cls) -> Engine:
        if cls.answers():
            return cls()
        dockerd = shutil.which("dockerd") or (
            "/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None
        )
        if dockerd is None or shutil.which("docker") is None:
            raise DockerUnavailable(
                "no Docker engine answers and dockerd is not installed: run `scripts/bootstrap.sh test` "
                "(it installs Debian's docker.io) or start an engine"
            )
        log = open(Path(tempfile.gettempdir()) / "reelforge-dockerd.log", "ab")  # noqa: SIM115
        process = subprocess.Popen([dockerd], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DockerUnavailable(f"dockerd exited {process.returncode}: see {log.name}")
            if cls.answers():
                return cls(started=True, process=process)
            time.sleep(0.5)
        process.terminate()
        raise DockerUnavailable(f"dockerd did not answer within 60 s: see {log.name}")

    def stop(self) -> None:
        if self.started and self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def compose_command() -> list[str]:
    """Compose v2 (`docker compose`) when the plugin exists, else v1 (`docker-compose`)."""
    if run("docker", "compose", "version", check=False, timeout=20).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise DockerUnavailable("neither `docker compose` nor `docker-compose` is installed")


def image_exists(name: str) -> bool:
    return run("docker", "image", "inspect", name, check=False, timeout=30).returncode == 0


def is_standin(name: str) -> bool:
    out = run(
        "docker", "image", "inspect", "-f", "{{json .Config.Labels}}", name, timeout=30
    ).stdout
    return STANDIN_LABEL in (json.loads(out or "null") or {})


def _apt_mirror() -> str | None:
    """The host's Debian mirror (deb822 or one-line sources), so the base comes from where apt does."""
    for path in [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]:
        if not path.exists():
            continue
        text = path.read_text()
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or re.search(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", text, re.M
        )
        if match:
            return match.group(1)
    return None


def build_base(report: list[str]) -> None:
    """debootstrap a minimal bookworm, trust the host's extra CAs, import it as the base image."""
    if image_exists(BASE_IMAGE):
        return
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable(
            "building stand-in images needs debootstrap (apt-get install debootstrap)"
        )
    with tempfile.TemporaryDirectory(prefix="rf-rootfs-") as rootfs:
        mirror = _apt_mirror()
        cmd = ["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", rootfs]
        run(*cmd, *([mirror] if mirror else []), timeout=900)
        extra = Path("/usr/local/share/ca-certificates")
        if extra.is_dir():
            target = Path(rootfs, "usr/local/share/ca-certificates")
            for cert in extra.glob("*.crt"):
                shutil.copy(cert, target / cert.name)
            run("chroot", rootfs, "update-ca-certificates", timeout=120)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "import", "--change", f"LABEL {STANDIN_LABEL}=base", "-", BASE_IMAGE],
            stdin=tar.stdout,
            check=True,
            capture_output=True,
            timeout=600,
        )
        tar.wait()
    report.append(f"built {BASE_IMAGE} (debootstrap bookworm minbase)")


def _moto_version() -> str:
    lock = (ROOT / "requirements-dev.lock").read_text()
    match = re.search(r"^moto==(\S+)", lock, re.M)
    assert match, "moto is pinned in requirements-dev.lock"
    return match.group(1)


def ensure_upstream_images(report: list[str]) -> dict[str, str]:
    """Every upstream image the compose files name: 'pulled', 'present' or 'stand-in'."""
    used: dict[str, str] = {}
    for name, dockerfile in UPSTREAM.items():
        pull = run("docker", "pull", name, check=False, timeout=600)
        if pull.returncode == 0:
            used[name] = "pulled"
            continue
        build_base(report)
        args = (
            ["--build-arg", f"MOTO_VERSION={_moto_version()}"]
            if dockerfile == "s3.Dockerfile"
            else []
        )
        run(
            "docker",
            "build",
            "-q",
            "-f",
            str(STANDINS / dockerfile),
            "--label",
            f"{STANDIN_LABEL}=1",
            *args,
            "-t",
            name,
            str(STANDINS),
            timeout=1200,
        )
        used[name] = "stand-in"
    standins = [n for n, how in used.items() if how == "stand-in"]
    if standins:
        report.append(
            "STAND-IN IMAGES USED (no registry reachable; built from Debian packages, "
            f"tests/docker/standins): {', '.join(standins)}"
        )
    return used


def build_project_images(compose: list[str], report: list[str]) -> None:
    """The project's own Dockerfiles, unchanged, through the compose file as a user builds them."""
    started = time.monotonic()
    env = {**os.environ, **placeholder_secrets()}
    run(
        *compose,
        "-f",
        str(ROOT / "docker-compose.yml"),
        "build",
        "api",
        "worker",
        timeout=1800,
        env=env,
        cwd=ROOT,
    )
    report.append(f"project images built in {time.monotonic() - started:.0f} s")


def placeholder_secrets() -> dict[str, str]:
    """Values the compose files require before they parse (the tests set their own real ones)."""
    names = [
        "JWT_SECRET",
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
    ]
    return {n: os.environ.get(n, "build-only-placeholder") for n in names}


def image_size_mb(name: str) -> float:
    return int(run("docker", "image", "inspect", "-f", "{{.Size}}", name, timeout=30).stdout) / 1e6
