"""The web client's hard cases in a real browser: an upload cut by a dropped network and a
closed tab resumes in a new tab and sends only the rest (the server's offsets prove it); a text file named .mp4
shows the API's 415 message; another user's private video does not play; a page on another
site cannot act with the user's session cookie."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Request

from tests.api_client import PASSWORD, Api
from tests.browser import chromium, go, open_app, sign_up, wait_until

UNSUPPORTED = "Unsupported file type: upload an MP4, MOV, MKV, WebM or AVI video"


def _choose(page: object, path: Path, title: str) -> None:
    page.set_input_files("#in-file", str(path))  # type: ignore[attr-defined]
    page.fill("#in-title", title)  # type: ignore[attr-defined]
    page.select_option("#in-profile", "reel")  # type: ignore[attr-defined]
    page.click("form button[type=submit]")  # type: ignore[attr-defined]


def _settled(api: Api, upload_url: str, auth: dict[str, str]) -> dict[str, Any]:
    """The upload's state once the server has recorded the cut PATCH's bytes (it does so when
    it notices the client is gone: on a busy machine, a moment after the tab closed)."""
    last: dict[str, Any] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now: dict[str, Any] = api.http.get(upload_url, headers=auth).json()
        if now["offset"] and now == last:
            return now
        last = now
        time.sleep(0.5)
    return last


def test_an_upload_cut_offline_resumes_in_a_new_tab_from_the_server_offset(
    api: Api, clip_1080p_sound: Path
) -> None:
    base = str(api.http.base_url).rstrip("/")
    size = clip_1080p_sound.stat().st_size
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        open_app(page, base, "#/signup")
        email = sign_up(page, "Resumeville")
        # A slow uplink (250 kB/s), so the network can drop in the middle of the file.
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
        cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": 250e3})
        _choose(page, clip_1080p_sound, "Cut short")
        wait_until(page, f"Number(document.forms[0].dataset.sent || 0) > {size // 3}")
        # The network drops and the tab is closed mid-request (Chromium's offline mode fails
        # new requests only: closing the tab cuts the one in flight, as a dropped link would).
        context.set_offline(True)
        upload_url = page.evaluate(
            "Object.entries(localStorage).filter(([k]) => k.startsWith('tus::'))"
            ".map(([, v]) => JSON.parse(v).uploadUrl)[0]"
        )
        page.close()
        context.set_offline(False)
        token = api.token(email)
        auth = {"Authorization": f"Bearer {token}"}
        kept = _settled(api, upload_url, auth)
        assert 0 < kept["offset"] < size and kept["complete"] is False, kept
        # The tab reloads; the same file is picked again: only the rest is sent.
        sent: list[tuple[int, int]] = []

        def patched(request: Request) -> None:
            if request.method == "PATCH" and request.url.endswith(upload_url):
                offset = int(request.header_value("upload-offset") or -1)
                sent.append((offset, int(request.all_headers().get("content-length", -1))))

        page = context.new_page()
        page.on("requestfinished", patched)
        open_app(page, base, "#/upload")
        page.wait_for_selector("#in-file")
        _choose(page, clip_1080p_sound, "Cut short")
        page.wait_for_selector("form[data-state=done]", timeout=60_000)
        video_id = int(page.get_attribute("form", "data-video-id") or 0)
    assert sent and sent[0][0] == kept["offset"], (sent, kept)
    assert sum(body for _, body in sent) == size - kept["offset"], (sent, kept, size)
    finished = api.http.get(upload_url, headers=auth).json()
    assert finished["complete"] and finished["video_id"] == video_id, finished
    stored = api.http.get(f"/api/videos/{video_id}/file?variant=original", headers=auth)
    assert stored.content == clip_1080p_sound.read_bytes()


def test_a_text_file_named_mp4_shows_the_apis_415_message(api: Api, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("these are my holiday notes, not a video\n" * 50)
    with chromium() as browser:
        page = browser.new_page()
        open_app(page, str(api.http.base_url).rstrip("/"), "#/signup")
        sign_up(page, "Textville")
        _choose(page, fake, "Not a video")
        page.wait_for_selector("form[data-state=error]", timeout=30_000)
        assert page.inner_text("form .form-error") == UNSUPPORTED


def test_another_users_private_video_does_not_play(api: Api, clip_small: Path) -> None:
    owner = api.user()
    video_id = api.processed_video(owner, clip_small, "Mine only")
    with chromium() as browser:
        page = browser.new_page()
        media: list[str] = []
        page.on("request", lambda r: media.append(r.url) if "/file" in r.url else None)
        open_app(page, str(api.http.base_url).rstrip("/"), "#/signup")
        sign_up(page, "Elsewhere")
        go(page, f"#/watch/{video_id}", "main [role=alert]")
        assert page.inner_text("main [role=alert]") == "This video is private or does not exist."
        assert page.query_selector("video") is None and media == []


class _OtherSite(BaseHTTPRequestHandler):
    """A page on another site that tries to publish the victim's video with their cookie."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = (
            f'<form id="f" method="post" action="{self.target}"></form>'
            f'<script>fetch("{self.target}", {{method: "POST", credentials: "include", '
            'mode: "no-cors"}).finally(() => document.getElementById("f").submit());</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def other_site() -> Iterator[tuple[str, type[_OtherSite]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # localhost, not 127.0.0.1: another site for SameSite, on loopback for Chrome's local rules
    yield f"http://localhost:{server.server_address[1]}/", _OtherSite
    server.shutdown()
    server.server_close()


def test_the_session_cookie_is_hidden_from_scripts_and_useless_to_other_sites(
    api: Api, clip_small: Path, other_site: tuple[str, type[_OtherSite]]
) -> None:
    base = str(api.http.base_url).rstrip("/")
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        open_app(page, base, "#/signup")
        email = sign_up(page, f"Csrf-{uuid.uuid4().hex[:4]}")
        auth = {"Authorization": f"Bearer {api.token(email, PASSWORD)}"}
        video_id = api.processed_video(auth, clip_small, "Not yours to publish")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["rf_session"]["httpOnly"] and cookies["rf_session"]["sameSite"] == "Strict"
        assert "rf_session" not in page.evaluate("document.cookie")
        # The page's own script, without the CSRF token: refused.
        status = page.evaluate(
            f"fetch('/api/videos/{video_id}/publish', {{method: 'POST'}}).then(r => r.status)"
        )
        assert status == 403
        # Another site's page, in the same browser: the cookie does not go with its requests.
        url, handler = other_site
        handler.target = f"{base}/api/videos/{video_id}/publish"
        attacker = context.new_page()
        attacker.goto(url)
        attacker.wait_for_load_state("networkidle")
    assert api.video(auth, video_id)["published"] is False
