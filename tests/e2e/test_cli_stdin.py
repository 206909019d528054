"""Every `reelforge` command, run with stdin closed and with stdin an empty pipe (a script, cron,
CI): a result or one line of error and a non-zero exit — never a traceback, never a hang. The
command list is read from the CLI itself, so a new command is covered or this test fails."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import typer.main

from cli.main import app
from devstack.stack import Stack
from tests.api_client import Api

CLI = str(Path(sys.executable).parent / "reelforge")


def _commands() -> set[str]:
    found: set[str] = set()

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix}{name} ")
        else:
            found.add(prefix.strip())

    walk(typer.main.get_command(app), "")
    return found


def _argv(clip: Path, email: str) -> dict[str, list[str]]:
    """One run of each command; ids that do not exist get the server's 404 as their error."""
    return {
        "signup": ["signup", "--email", f"new-{email}", "--first-name", "S", "--last-name", "T"],
        "login": ["login", "--email", email],
        "logout": ["logout"],
        "profiles": ["profiles"],
        "upload": ["upload", str(clip), "--title", "From a script"],
        "ls": ["ls"],
        "status": ["status", "999999"],
        "download": ["download", "999999", "-o", "out.mp4"],
        "publish": ["publish", "999999"],
        "rm": ["rm", "999999"],
        "vote": ["vote", "999999"],
        "rankings": ["rankings"],
        "webhooks add": ["webhooks", "add", "https://example.com/hook"],
        "webhooks ls": ["webhooks", "ls"],
        "webhooks rm": ["webhooks", "rm", "999999"],
        "webhooks deliveries": ["webhooks", "deliveries", "999999"],
    }


def _closed_stdin() -> None:
    os.close(0)


@pytest.mark.parametrize("stdin", ["closed", "pipe"])
def test_every_command_without_a_terminal_answers_in_one_line(
    pg_stack: Stack, clip_small: Path, tmp_path: Path, stdin: str
) -> None:
    api = Api(pg_stack.base_url)
    email = api.signup()["email"]
    token = api.token(email)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFORGE_")}
    env.update(REELFORGE_URL=pg_stack.base_url, REELFORGE_TOKEN=token, NO_COLOR="1",
               REELFORGE_CONFIG_DIR=str(tmp_path / "config"))  # fmt: skip
    table = _argv(clip_small, email.replace("@", f"-{uuid.uuid4().hex[:4]}@"))
    assert set(table) == _commands(), "a command is missing from this test's table"
    for name, args in table.items():
        done = subprocess.run(
            [CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            input="" if stdin == "pipe" else None,
            preexec_fn=_closed_stdin if stdin == "closed" else None,
        )  # fmt: skip
        assert "Traceback" not in done.stderr + done.stdout, (name, done.stderr)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (name, done.stderr)
        if name in ("signup", "login"):  # no terminal and no password anywhere: said so
            assert done.returncode == 1 and "password" in done.stderr.lower(), done.stderr
        if name in ("profiles", "ls", "rankings", "upload", "logout", "webhooks ls"):
            assert done.returncode == 0, (name, done.stderr)
