"""A real browser plays a private video's `hls` output: Debian's chromium (headless, driven by
Playwright with the system browser) loads a player page from another origin with hls.js (npm,
pinned by tests/clients/package-lock.json), given only the signed master link the owner's detail
carries — no Authorization header — and plays it to its end: currentTime advances, `ended`
fires, hls.js reports no error, every rendition and the audio track are offered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.api_client import Api
from tests.browser import chromium

RECOVERABLE = {"bufferSeekOverHole", "bufferStalledError", "bufferNudgeOnStall"}
HLS_JS = Path(__file__).resolve().parents[1] / "clients" / "node_modules" / "hls.js" / "dist"
# The player page's own server: another origin than the API's (localhost, not 127.0.0.1), listed
# in CORS_ALLOW_ORIGINS of the test stack (tests/conftest.py); both on loopback, as the browser's
# local network access rules want.
PAGE_PORT = 8979
ORIGIN = f"http://localhost:{PAGE_PORT}"
PAGE = """<!doctype html><meta charset="utf-8"><title>player</title>
<video id="video" muted playsinline controls></video>
<script src="/hls.min.js"></script>
<script>
  window.report = {errors: [], fatal: null, ended: false, levels: 0, audioTracks: 0};
  const video = document.getElementById("video");
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, d) => {
    window.report.errors.push(d.details); if (d.fatal) window.report.fatal = d.details; });
  hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => { window.report.levels = d.levels.length;
    video.play(); });
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_, d) => {
    window.report.audioTracks = d.audioTracks.length; });
  video.addEventListener("ended", () => { window.report.ended = true; });
  window.play = (url) => { hls.loadSource(url); hls.attachMedia(video); };
</script>"""


class _PlayerFiles(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        files = {
            "/": (PAGE.encode(), "text/html"),
            "/hls.min.js": ((HLS_JS / "hls.min.js").read_bytes(), "text/javascript"),
        }
        body, kind = files.get(self.path, (b"", "text/plain"))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def player_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", PAGE_PORT), _PlayerFiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{ORIGIN}/"
    server.shutdown()
    server.server_close()


def test_chromium_plays_a_private_hls_output_to_its_end(
    api: Api, clip_720p_sound: Path, player_page: str
) -> None:
    if not (HLS_JS / "hls.min.js").exists():
        pytest.fail("hls.js is missing: run `make install-test` (scripts/bootstrap.sh)")
    owner = api.user()
    video = api.processed_with(owner, clip_720p_sound, "hls")
    assert video["published"] is False  # private: only its owner has the link
    master = str(api.http.base_url).rstrip("/") + video["processed_url"]
    with chromium() as browser:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(player_page)
        page.evaluate("url => window.play(url)", master)
        # This page has no CSP: Playwright's own polling may evaluate a string here.
        page.wait_for_function("window.report.ended || window.report.fatal", timeout=60_000)
        report = page.evaluate("window.report")
        position = page.evaluate("document.getElementById('video').currentTime")
    assert report["fatal"] is None and report["ended"], (report, console)
    # Only hls.js's recoverable buffering notices: the first video frame starts ~0.07 s in (the
    # encoder's reorder delay), which hls.js steps over, and a stall when the CPU is busy.
    assert set(report["errors"]) <= RECOVERABLE, (report, console)
    assert position == pytest.approx(2.0, abs=0.5)
    renditions = [o for o in video["outputs"] if o["kind"] == "hls" and o["name"] != "master"]
    assert report["levels"] == len(renditions) == 3 and report["audioTracks"] == 1, report
