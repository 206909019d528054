"""The web client measured (`python -m bench --stages page`) on the production-shaped stack
(nginx → gunicorn → API, S3, Postgres, Redis), from Debian's chromium driven by Playwright:

- JavaScript + CSS transferred per page (gzip, a cold cache each time);
- time to interactive per page (navigation start → the page's `data-ready`);
- the upload throughput of the page (tus-js-client) against the CLI (`reelforge upload`) for the
  18 MB clip, alternated, median of `rounds` each — target: the page ≥ 0.9 of the CLI."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, Request

from bench.web import BENCH_APP, BENCH_NGINX, token
from devstack.services import Services
from devstack.stack import Stack

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-pass-1"  # bench/web.py token()
PAGES = ("#/public", "#/signup", "#/login", "#/upload", "#/videos", "#/rankings", "#/watch/{id}")


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/app/#/login")
    page.wait_for_selector("html[data-ready=true]")
    page.fill("#in-email", email)
    page.fill("#in-password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("ul.videos", state="attached")


def _page_weight(browser: Browser, url: str, email: str, route: str) -> dict[str, Any]:
    """One cold load of `route` by a signed-in user: bytes of script and style on the wire."""
    context = browser.new_context()  # its own cache: cold
    try:
        body = {"email": email, "password": PASSWORD}  # the session cookie, through the API
        assert context.request.post(f"{url}/api/auth/session", data=body).ok
        page = context.new_page()
        sizes: list[int] = []

        def counted(request: Request) -> None:
            if request.resource_type in ("script", "stylesheet"):
                sizes.append(request.sizes()["responseBodySize"])

        page.on("requestfinished", counted)
        page.goto(f"{url}/app/{route}")
        page.wait_for_selector("html[data-ready=true]")
        ready_ms = float(page.evaluate("Number(document.documentElement.dataset.readyAt)"))
        page.wait_for_load_state("networkidle")
        return {"route": route, "script_style_bytes": sum(sizes), "files": len(sizes),
                "ready_ms": ready_ms}  # fmt: skip
    finally:
        context.close()


def _page_upload(browser: Browser, url: str, email: str, clip: Path) -> float:
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, url, email)
        page.evaluate("location.hash = '#/upload'")
        page.wait_for_selector("#in-profile")
        page.set_input_files("#in-file", str(clip))
        page.fill("#in-title", "bench")
        page.click("form button[type=submit]")
        page.wait_for_selector("form[data-state=done]", timeout=300_000)
        return float(page.get_attribute("form", "data-seconds") or "nan")
    finally:
        context.close()


def _cli_upload(url: str, bearer: str, clip: Path, config: Path) -> float:
    env = {**os.environ, "REELFORGE_URL": url, "REELFORGE_TOKEN": bearer,
           "REELFORGE_CONFIG_DIR": str(config)}  # fmt: skip
    started = time.monotonic()
    command = [
        str(Path(sys.executable).parent / "reelforge"),
        "upload",
        str(clip),
        "--title",
        "bench",
    ]
    subprocess.run([*command, "--json"], env=env, check=True, capture_output=True, timeout=300)
    return time.monotonic() - started


def _processed_hls(stack: Stack, auth: dict[str, str], clip: Path) -> int:
    """A played-ready `hls` video for the watch page (its weight includes hls.js)."""
    stack.start_worker()
    with clip.open("rb") as f:
        sent = httpx.post(f"{stack.url}/api/videos/upload", headers=auth, timeout=60,
                          data={"title": "watch", "profile": "hls"}, files={"video_file": f})  # fmt: skip
    video_id = int(sent.json()["video_id"])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = httpx.get(f"{stack.url}/api/videos/{video_id}", headers=auth).json()["status"]
        if status in ("processed", "failed"):
            return video_id
        time.sleep(1)
    raise TimeoutError("the watch page's hls video was not processed in 10 minutes")


def _cli_startup() -> float:
    """The CLI's Python start-up alone (`reelforge --help`): part of every command's time."""
    command = [str(Path(sys.executable).parent / "reelforge"), "--help"]
    times = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def page_stage(clip: Path, small: Path, root: Path, rounds: int = 3) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    folder = root / "page"
    stack = Stack(folder, Services.start(folder, s3=True), api_server="gunicorn", edge=True,
                  settings={**BENCH_APP, "WORKER_CONCURRENCY": "1"}, nginx_settings=BENCH_NGINX)  # fmt: skip
    stack.start(worker=False)  # uploads first: no FFmpeg competes for the 2 cores
    try:
        bearer = token(stack.url)
        auth = {"Authorization": f"Bearer {bearer}"}
        email = httpx.get(f"{stack.url}/api/auth/session", headers=auth).json()["user"]["email"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                page_s, cli_s = [], []
                for _ in range(rounds):
                    page_s.append(_page_upload(browser, stack.url, email, clip))
                    cli_s.append(_cli_upload(stack.url, bearer, clip, folder / "cli"))
                video_id = _processed_hls(stack, auth, small)
                weights = [
                    _page_weight(browser, stack.url, email, r.format(id=video_id)) for r in PAGES
                ]
            finally:
                browser.close()
    finally:
        stack.stop()
    size = clip.stat().st_size
    startup = _cli_startup()
    page_mb_s = size / statistics.median(page_s) / 1e6
    cli_mb_s = size / statistics.median(cli_s) / 1e6
    cli_transfer_mb_s = size / (statistics.median(cli_s) - startup) / 1e6
    return {"clip_bytes": size, "rounds": rounds, "page_seconds": page_s, "cli_seconds": cli_s,
            "page_mb_s": page_mb_s, "cli_mb_s": cli_mb_s, "page_vs_cli": page_mb_s / cli_mb_s,
            "cli_startup_s": startup, "page_vs_cli_transfer": page_mb_s / cli_transfer_mb_s,
            "pages": weights}  # fmt: skip
