"""A token verified once is not verified again by the same process (every request presents it
twice: the rate limiter's key, then the user) — but an expired one is refused even after it was
remembered, and a token signed with another secret is never taken for a remembered one."""

from __future__ import annotations

import time

from app.auth.security import create_access_token, decode_token
from core.settings import Settings


def test_a_remembered_token_still_expires(settings: Settings) -> None:
    short = settings.model_copy(update={"jwt_expires_seconds": 1})
    token = create_access_token(7, short)
    claims = decode_token(token, short)
    assert claims is not None and claims.user_id == 7
    assert decode_token(token, short) == claims  # remembered
    time.sleep(2.1)  # exp is whole seconds: past it for certain
    assert decode_token(token, short) is None


def test_a_remembered_token_is_bound_to_its_secret(settings: Settings) -> None:
    token = create_access_token(8, settings)
    assert decode_token(token, settings) is not None
    other = settings.model_copy(update={"jwt_secret": settings.jwt_secret + "-rotated"})
    assert decode_token(token, other) is None
    assert decode_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), settings) is None
