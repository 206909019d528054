"""nginx for a native stack: the repository's template rendered with envsubst semantics (as the
nginx image renders /etc/nginx/templates), inside a private main config and prefix."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from devstack.servers import REPO, HarnessError

NGINX_TEMPLATE = REPO / "nginx" / "reelforge.conf.template"
NGINX_DEFAULTS = REPO / "nginx" / "defaults.env"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


ZONES = ("API", "UPLOAD", "AUTH", "TUS")


def nginx_values(overrides: dict[str, str]) -> dict[str, str]:
    values = {}
    for line in NGINX_DEFAULTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = os.environ.get(key, value)
    values.update(overrides)
    for zone in ZONES:  # Retry-After follows a rate that was changed, unless set as well
        key = f"RF_RETRY_AFTER_{zone}"
        if key not in overrides and key not in os.environ:
            values[key] = str(retry_after(values[f"RF_RATE_{zone}"]))
    return values


def retry_after(rate: str) -> int:
    """Seconds until a limit_req zone of `rate` ("10r/m", "2r/s") admits the next request."""
    match = re.fullmatch(r"(\d+)r/([sm])", rate.strip())
    if match is None:
        raise HarnessError(f"not an nginx rate: {rate!r}")
    per_second = int(match.group(1)) / (60 if match.group(2) == "m" else 1)
    return max(1, math.ceil(1 / per_second))


def render_nginx(values: dict[str, str]) -> str:
    """envsubst semantics, like the nginx image: only the known ${NAME}s are replaced."""
    text = NGINX_TEMPLATE.read_text()
    text = re.sub(r"\$\{(RF_[A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
    if missing := re.findall(r"\$\{RF_[A-Z_]+\}", text):
        raise HarnessError(f"nginx template values missing: {sorted(set(missing))}")
    return text


def _main_conf(root: Path) -> str:
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {root}/{kind};" for kind in TEMP_KINDS)
    return f"""{user}worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {root}/reelforge.conf;
}}
"""


def write_config(conf_dir: Path, listen: str, upstream: str, overrides: dict[str, str]) -> Path:
    """Writes the rendered site and main config under conf_dir; returns the main config."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    for kind in TEMP_KINDS:
        (conf_dir / kind).mkdir(exist_ok=True)
    values = nginx_values({"RF_LISTEN": listen, "RF_UPSTREAM": upstream,
                           "RF_ACCESS_LOG": str(conf_dir / "access.log"), **overrides})  # fmt: skip
    (conf_dir / "reelforge.conf").write_text(render_nginx(values))
    (conf_dir / "nginx.conf").write_text(_main_conf(conf_dir))
    return conf_dir / "nginx.conf"
