"""Where the CLI talks to and as whom: the server URL (--server, REELFORGE_URL, the saved login,
else http://localhost:8000), the token (REELFORGE_TOKEN, else the one `reelforge login` saved in
the user's config dir with mode 0600), and one HTTP client whose errors become one-line messages
carrying the server's `detail`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer

DEFAULT_SERVER = "http://localhost:8000"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class CliError(Exception):
    """Printed as one line on stderr; the command exits non-zero."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def config_dir() -> Path:
    override = os.environ.get("REELFORGE_CONFIG_DIR")
    return Path(override) if override else Path(typer.get_app_dir("reelforge"))


def _credentials_path() -> Path:
    return config_dir() / "credentials.json"


def load_credentials() -> dict[str, str]:
    try:
        data = json.loads(_credentials_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_credentials(server: str, token: str) -> Path:
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"server": server, "token": token}, f)
    os.chmod(path, 0o600)  # also when the file existed with wider permissions
    return path


def forget_credentials() -> bool:
    try:
        _credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True


def detail_of(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):  # FastAPI validation errors: the first one, readably
        first = detail[0] if detail else {}
        where = ".".join(str(p) for p in first.get("loc", [])[1:])
        detail = f"{where}: {first.get('msg')}" if where else first.get("msg")
    text = str(detail) if detail else response.reason_phrase or "request failed"
    return f"{text} (HTTP {response.status_code})"


@dataclass
class Session:
    server: str
    token: str | None

    @classmethod
    def resolve(cls, server: str | None) -> Session:
        saved = load_credentials()
        url = server or os.environ.get("REELFORGE_URL") or saved.get("server") or DEFAULT_SERVER
        token = os.environ.get("REELFORGE_TOKEN")
        if token is None and saved.get("server", "").rstrip("/") == url.rstrip("/"):
            token = saved.get("token")
        return cls(url.rstrip("/"), token)

    def client(self, auth: bool = True) -> httpx.Client:
        headers = {"User-Agent": "reelforge-cli"}
        if auth:
            if not self.token:
                raise CliError(f"Not logged in to {self.server}: run `reelforge login`")
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.Client(base_url=self.server, headers=headers, timeout=TIMEOUT)

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        """One request; the JSON body, or CliError with the server's detail."""
        with self.client(auth) as http:
            response = request(http, method, path, **kwargs)
        return response.json() if response.content else None


def request(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise CliError(f"Cannot reach {http.base_url}: {exc}") from None
    if response.status_code >= 400:
        raise CliError(detail_of(response))
    return response
