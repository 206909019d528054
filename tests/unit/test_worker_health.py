"""`python -m worker.health`: each check passes on what works and names what does not."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from core.settings import Settings
from worker import health


def _settings(tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "var_dir": tmp_path,
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
        "celery_broker_url": "filesystem://",
        "worker_metrics_port": 0,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_check_passes_on_a_working_machine(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    (settings.resolved_broker_dir / "queue").mkdir(parents=True)
    for check in health.CHECKS.values():
        check(settings)  # raises on failure


def test_an_unreachable_broker_and_missing_ffmpeg_are_named(tmp_path: Path) -> None:
    port = _closed_port()
    settings = _settings(tmp_path, celery_broker_url=f"redis://127.0.0.1:{port}/0",
                         ffmpeg_binary="no-such-ffmpeg")  # fmt: skip
    with pytest.raises(Exception, match=str(port)):
        health.check_broker(settings)
    with pytest.raises(RuntimeError, match="no-such-ffmpeg not found"):
        health.check_ffmpeg(settings)
    health.check_database(settings)  # the database is fine: only the broken checks fail


def test_the_process_check_reads_the_metrics_port(tmp_path: Path) -> None:
    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"# metrics\n")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        health.check_process(_settings(tmp_path, worker_metrics_port=server.server_port))
    finally:
        server.shutdown()
    with pytest.raises(OSError):
        health.check_process(_settings(tmp_path, worker_metrics_port=_closed_port()))


def test_main_exits_1_and_reports_each_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    settings = _settings(tmp_path, ffmpeg_binary="no-such-ffmpeg")
    (settings.resolved_broker_dir / "queue").mkdir(parents=True)
    monkeypatch.setattr(health, "get_settings", lambda: settings)
    assert health.main() == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["process: ok", "database: ok", "broker: ok"]
    assert lines[3].startswith("ffmpeg: error: RuntimeError: no-such-ffmpeg not found")
