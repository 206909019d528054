"""One compose project as the tests drive it: up, wait for health, logs on failure, down -v."""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.docker.engine import ROOT, run


def secret() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Project:
    compose: list[str]
    name: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)

    def cmd(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        files = [a for f in self.files for a in ("-f", str(f))]
        env = {**os.environ, **self.env}
        result = run(*self.compose, "-p", self.name, *files, *args, timeout=timeout, check=check,
                     env=env, cwd=ROOT)  # fmt: skip
        return result.stdout + result.stderr

    def up(self, *services: str) -> None:
        try:
            self.cmd("up", "-d", "--no-build", *services, timeout=900)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n--- logs ---\n{self.logs()}") from None

    def down(self) -> None:
        self.cmd("down", "-v", "--remove-orphans", "-t", "5", timeout=300, check=False)

    def logs(self) -> str:
        return self.cmd("logs", "--no-color", "--tail", "40", check=False)[-12000:]

    def container(self, service: str) -> str:
        cid = self.cmd("ps", "-q", service).strip().splitlines()
        assert cid, f"{service} is not running in {self.name}:\n{self.logs()}"
        return cid[0]

    def health(self, service: str) -> str:
        out = run(
            "docker", "inspect", "-f", "{{json .State.Health}}", self.container(service)
        ).stdout
        state = json.loads(out or "null")
        return state["Status"] if state else "none"

    def wait_healthy(self, *services: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        pending = list(services)
        while pending and time.monotonic() < deadline:
            pending = [s for s in pending if self.health(s) != "healthy"]
            time.sleep(2)
        assert not pending, f"never healthy: {pending}\n{self.logs()}"

    def exec(self, service: str, *cmd: str, timeout: float = 120) -> str:
        return run("docker", "exec", self.container(service), *cmd, timeout=timeout).stdout


def wait_http(url: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=3)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(1)
    raise AssertionError(f"{url} never answered 200: {last}")
