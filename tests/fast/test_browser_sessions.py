"""Browser sessions (app/auth/cookies.py) and the web client's files (app/web): the token in an
httpOnly SameSite=Strict cookie, a CSRF token on every cookie-authenticated write, Bearer clients
unchanged, and /app/ served under a Content-Security-Policy without unsafe-inline."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, signed_up, uploaded

pytestmark = pytest.mark.anyio


async def _browser_session(client: httpx.AsyncClient, email: str) -> str:
    await signed_up(client, email)
    opened = await client.post("/api/auth/session", json={"email": email, "password": PASSWORD})
    assert opened.status_code == 200, opened.text
    cookie = opened.headers["set-cookie"]
    assert "rf_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    body = opened.json()
    assert set(body) == {"user", "csrf_token", "expires_in"} and body["user"]["email"] == email
    assert "access_token" not in opened.text
    return str(body["csrf_token"])


async def test_a_cookie_session_reads_freely_but_writes_only_with_its_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    csrf = await _browser_session(client, "cookie@example.com")
    assert (await client.get("/api/videos")).status_code == 200  # a read: the cookie is enough
    again = await client.get("/api/auth/session")
    assert again.status_code == 200 and again.json()["csrf_token"] == csrf
    refused = await uploaded(client, {})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF token missing or invalid")
    assert (await uploaded(client, {"X-CSRF-Token": "0" * 40})).status_code == 403
    accepted = await uploaded(client, {"X-CSRF-Token": csrf})
    assert accepted.status_code == 202, accepted.text


async def test_logging_out_clears_the_cookie_and_needs_the_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    csrf = await _browser_session(client, "leaving@example.com")
    assert (await client.delete("/api/auth/session")).status_code == 403
    closed = await client.delete("/api/auth/session", headers={"X-CSRF-Token": csrf})
    assert closed.status_code == 204
    assert 'rf_session=""' in closed.headers["set-cookie"]
    assert (await client.get("/api/auth/session")).status_code == 401


async def test_bearer_clients_need_no_csrf_token(client: httpx.AsyncClient) -> None:
    auth = await signed_up(client, "script@example.com")
    assert (await uploaded(client, auth)).status_code == 202
    assert (await client.get("/api/auth/session", headers=auth)).status_code == 200


async def test_a_wrong_password_opens_no_session(client: httpx.AsyncClient) -> None:
    await signed_up(client, "guess@example.com")
    wrong = await client.post(
        "/api/auth/session", json={"email": "guess@example.com", "password": "not-it-at-all"}
    )
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers


async def test_the_web_client_is_served_under_a_strict_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/app/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and '<main id="main"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    script = await client.get("/app/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    assert script.headers["content-type"].startswith("text/javascript")
    moved = await client.get("/app")
    assert moved.status_code == 308 and moved.headers["location"] == "/app/"
    assert (await client.get("/")).text.count("Healthcheck") == 1  # the seed's GET / unchanged
    assert (await client.get("/app/missing.js")).status_code == 404
