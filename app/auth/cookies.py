"""Browser sessions: the access token in an httpOnly cookie, and a CSRF check on its writes.

A browser page (the web client at /app/) signs in with POST /api/auth/session: the JWT goes
into `rf_session` — HttpOnly (no page script can read it), SameSite=Strict (no cross-site
request carries it), Secure behind https. Every write authenticated by that cookie must also
carry `X-CSRF-Token`, a value only a same-origin page can have read: an HMAC of the token under
JWT_SECRET, given in the session's JSON. A Bearer header is never checked for CSRF (a browser
never adds one by itself). docs/security.md tells the whole design.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from app.errors import Forbidden
from core.settings import Settings

SESSION_COOKIE = "rf_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_REFUSED = "CSRF token missing or invalid: send the session's csrf_token as X-CSRF-Token"


def csrf_token(token: str, settings: Settings) -> str:
    """The value a page must echo with each write: bound to this one session token."""
    mac = hmac.new(settings.jwt_secret.encode(), b"csrf:" + token.encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    return None


def request_token(request: Request, settings: Settings) -> str | None:
    """The request's access token: its Bearer header, else its session cookie — and then, for
    a write, only with the matching X-CSRF-Token (403 otherwise)."""
    token = bearer_token(request)
    if token is not None:
        return token
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(token, settings).encode()):
            raise Forbidden(CSRF_REFUSED)
    return token


def cookie_token(request: Request) -> str | None:
    """The session cookie alone (for the rate limiter's key: no CSRF verdict there)."""
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE) or None


def set_session_cookie(
    response: Response, request: Request, token: str, settings: Settings
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.jwt_expires_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_https(request)
    )


def _https(request: Request) -> bool:
    """Behind nginx the scheme is in X-Forwarded-Proto (uvicorn's proxy headers)."""
    return request.url.scheme == "https"
