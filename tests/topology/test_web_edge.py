"""The web client behind nginx (`make stack`, compose): nginx serves app/web/static itself —
gzip, the security headers, a CSP that names the S3 host presigned media come from — and a
real browser plays a processed video from S3 through that page with no CSP violation."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.web.policy import content_security_policy, origin_of
from devstack.nginx import nginx_values
from devstack.stack import Stack
from tests.api_client import Api
from tests.browser import chromium, go, open_app, sign_up, wait_until


def test_nginx_serves_the_web_client_with_its_policy(native: Stack) -> None:
    assert native.services.s3_url
    with httpx.Client(base_url=native.url) as http:
        page = http.get("/app/")
        assert page.status_code == 200 and "/app/js/main.js" in page.text
        assert page.headers["server"].startswith("nginx")
        policy = page.headers["content-security-policy"]
        assert policy == content_security_policy([origin_of(native.services.s3_url)])
        assert "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY"
        script = http.get("/app/vendor/hls.min.js", headers={"Accept-Encoding": "gzip"})
        assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
        moved = http.get("/app")
        assert moved.status_code == 308 and moved.headers["location"] == "/app/"
        assert http.get("/").text.count("Healthcheck") == 1


def test_the_default_policy_is_the_apps_own() -> None:
    """nginx/defaults.env's RF_CSP (local storage) is app/web/policy.py's, word for word."""
    assert nginx_values({})["RF_CSP"] == content_security_policy([])


def test_a_browser_plays_an_s3_output_through_the_edge(native: Stack, clip_small: Path) -> None:
    edge = Api(native.url)
    with chromium() as browser:
        page = browser.new_page()
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.extend([m.text] if "Content Security" in m.text else [])
        )
        open_app(page, native.url, "#/signup")
        email = sign_up(page, "Edgeville")
        auth = {"Authorization": f"Bearer {edge.token(email)}"}
        video_id = edge.processed_video(auth, clip_small, "From S3")
        go(page, f"#/watch/{video_id}", "video.player")
        page.evaluate("v => { v.muted = true; v.play(); }", page.query_selector("video.player"))
        wait_until(page, "document.querySelector('video.player').currentTime > 0.5")
    assert refused == []
