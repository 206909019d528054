"""Driving the web client (/app/) in Debian's chromium through Playwright: launch, sign up
through the page, axe-core checks (pinned in tests/clients) and screenshots for docs/."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.api_client import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CLIENTS = Path(__file__).resolve().parent / "clients" / "node_modules"
AXE = CLIENTS / "axe-core" / "axe.min.js"
VENDOR = Path(__file__).resolve().parents[1] / "app" / "web" / "static" / "vendor"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Browser]:
    for needed in (Path(CHROMIUM), AXE, VENDOR / "hls.min.js", VENDOR / "tus.min.js"):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `make install-test` (scripts/bootstrap.sh)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_until(page: Page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JS expression (Playwright's wait_for_function evals a string: the page's CSP,
    rightly, forbids that; page.evaluate goes through the debugger)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def open_app(page: Page, base_url: str, route: str = "#/public") -> None:
    page.goto(f"{base_url}/app/{route}")
    page.wait_for_selector("html[data-ready=true]")


def go(page: Page, route: str, ready: str) -> None:
    page.evaluate("route => { location.hash = route; }", route)
    page.wait_for_selector(ready)


def sign_up(page: Page, city: str, first_name: str = "Web") -> str:
    """Through the page's form; the new account is signed in. Its email."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    go(page, "#/signup", "form #in-first_name")
    page.fill("#in-first_name", first_name)
    page.fill("#in-last_name", "Tester")
    page.fill("#in-email", email)
    page.fill("#in-password1", PASSWORD)
    page.fill("#in-password2", PASSWORD)
    page.fill("#in-city", city)
    page.click("form button[type=submit]")
    wait_until(page, "location.hash === '#/upload'")
    page.wait_for_selector("#in-file")
    return email


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # evaluated by the debugger: no CSP
        page.evaluate(AXE.read_text() + "\n;undefined")
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>-desktop.png and -phone.png of the page as it is now."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"])
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(ViewportSize(width=viewport["width"], height=viewport["height"]))
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=False)
    page.set_viewport_size(size)
