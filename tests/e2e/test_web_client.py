"""The web client at /app/ in a real browser (Debian's chromium through Playwright), against
the real stack: sign up → upload through the page (tus) → the status moves live to processed
→ the video plays → publish → a second user votes → the rankings show the vote. axe-core finds
no serious or critical violation on any page; no CSP violation is reported; screenshots of
each page at desktop and phone width go to docs/screenshots/."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Page

from tests.api_client import Api
from tests.browser import (
    axe_violations,
    chromium,
    go,
    open_app,
    screenshot,
    sign_up,
    wait_until,
)


def _checked(page: Page, name: str, csp_errors: list[str]) -> None:
    assert axe_violations(page) == [], name
    assert csp_errors == [], csp_errors
    screenshot(page, name)


def _csp_errors(page: Page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


def test_sign_up_upload_watch_publish_vote_and_rank(api: Api, clip_720p_sound: Path) -> None:
    base = str(api.http.base_url).rstrip("/")
    city = f"Webville-{uuid.uuid4().hex[:6]}"
    with chromium() as browser:
        owner = browser.new_context()
        page = owner.new_page()
        csp = _csp_errors(page)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
        open_app(page, base, "#/signup")
        _checked(page, "signup", csp)
        sign_up(page, city, first_name="Owner")
        # Upload through the page: the profile list comes from GET /api/profiles.
        page.set_input_files("#in-file", str(clip_720p_sound))
        page.fill("#in-title", "Browser reel")
        page.select_option("#in-profile", "hls")
        _checked(page, "upload", csp)
        page.click("form button[type=submit]")
        page.wait_for_selector("form[data-state=done]", timeout=60_000)
        video_id = page.get_attribute("form", "data-video-id")
        assert video_id and video_id.isdigit()
        assert any(r.startswith("PATCH ") and "/api/uploads/" in r for r in requests)
        # My videos: the row follows the job over its event stream to processed.
        requests.clear()
        go(page, "#/videos", f"li[data-video-id='{video_id}']")
        page.wait_for_selector(
            f"li[data-video-id='{video_id}'] [data-status=processed]", timeout=120_000
        )
        streams = [r for r in requests if r.endswith(f"/api/videos/{video_id}/events")]
        lists = [r for r in requests if "/api/videos?" in r]
        assert streams, requests
        assert len(lists) <= 2, lists  # the first load, and one after the stream said processed
        page.wait_for_selector(f"li[data-video-id='{video_id}'] a.button")
        _checked(page, "videos", csp)
        # Watch: hls.js plays the ladder; currentTime advances; the quality menu lists it.
        go(page, f"#/watch/{video_id}", "video.player")
        wait_until(page, "document.querySelectorAll('#quality option').length > 1")
        page.evaluate("document.querySelector('video.player').muted = true")
        page.evaluate("document.querySelector('video.player').play()")
        wait_until(page, "document.querySelector('video.player').currentTime > 0.5")
        assert page.get_attribute("video.player", "data-error") is None
        _checked(page, "watch", csp)
        # Publish from My videos.
        go(page, "#/videos", f"li[data-video-id='{video_id}'] a.button")
        page.click(f"li[data-video-id='{video_id}'] button:has-text('Publish')")
        page.wait_for_selector(f"li[data-video-id='{video_id}'] .badge.published")
        # A second user votes once; a second vote gets the API's message.
        voter = browser.new_context()
        other = voter.new_page()
        open_app(other, base, "#/signup")
        sign_up(other, city, first_name="Voter")
        go(other, "#/public", f"li[data-video-id='{video_id}']")
        tile = f"li[data-video-id='{video_id}']"
        other.click(f"{tile} button:has-text('Vote')")
        other.wait_for_selector(f"{tile} .vote-message:has-text('Vote successfully registered')")
        assert other.inner_text(f"{tile} .votes") == "1 votes"
        other.click(f"{tile} button:has-text('Vote')")
        other.wait_for_selector(
            f"{tile} .vote-message:has-text('You have already voted for this video')"
        )
        _checked(other, "public", _csp_errors(other))
        # Rankings by the two users' city: the owner, with the one vote.
        go(other, "#/rankings", "#in-city")
        other.fill("#in-city", city)
        other.click("form[role=search] button")
        other.wait_for_selector("tbody tr:has-text('Owner Tester')")
        row = other.inner_text("tbody tr:first-child").split("\t")
        assert row == ["1", "Owner Tester", city, "1"], row
        _checked(other, "rankings", [])
        # The login page, signed out.
        other.click("#logout")  # the session is closed, then the page goes to the gallery
        wait_until(
            other, "location.hash === '#/public' && !document.getElementById('who').textContent"
        )
        go(other, "#/login", "#in-password")
        _checked(other, "login", [])
