"""Password hashing (off the event loop) and JWT issue/verify."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import bcrypt
import jwt

from core.models import as_utc
from core.settings import Settings

# bcrypt only reads the first 72 bytes; longer passwords are refused at the schema.
MAX_PASSWORD_BYTES = 72


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _verify(password: str, password_hash: str) -> bool:
    secret = password.encode()
    if len(secret) > MAX_PASSWORD_BYTES:  # no stored password is longer: it cannot match
        secret = b""
    return bcrypt.checkpw(secret, password_hash.encode()) and bool(secret)


_limiter: anyio.CapacityLimiter | None = None


def _hashing_threads() -> anyio.CapacityLimiter:
    """bcrypt gets its own few threads: a signup storm must not take the threads that upload
    chunks are written with (anyio's default pool is shared by every to_thread call)."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 1))
    return _limiter


async def hash_password(password: str, settings: Settings) -> str:
    return await anyio.to_thread.run_sync(
        _hash, password, settings.bcrypt_rounds, limiter=_hashing_threads()
    )


async def verify_password(password: str, password_hash: str) -> bool:
    return await anyio.to_thread.run_sync(
        _verify, password, password_hash, limiter=_hashing_threads()
    )


def create_access_token(user_id: int, settings: Settings) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(seconds=settings.jwt_expires_seconds),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    issued_at: int  # seconds since the epoch


# Tokens already verified by this process, with their expiry: every request presents its token
# twice (the rate limiter's key, then the user), and a client presents the same one for an hour.
_VERIFIED: dict[tuple[str, str, str], tuple[TokenClaims, float]] = {}
_VERIFIED_MAX = 4096


def decode_token(token: str, settings: Settings) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else. A token this process
    has verified is not verified again (signature and claims cannot change), only its expiry."""
    key = (token, settings.jwt_secret, settings.jwt_algorithm)
    known = _VERIFIED.get(key)
    if known is not None and time.time() < known[1]:
        return known[0]
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "iat"]},
        )
        verified = TokenClaims(int(claims["sub"]), int(claims["iat"]))
        expires = float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        _VERIFIED.pop(key, None)
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (verified, expires)
    return verified


def decode_access_token(token: str, settings: Settings) -> int | None:
    """The user id in a valid, unexpired token; None for anything else."""
    claims = decode_token(token, settings)
    return claims.user_id if claims else None


def issued_to(claims: TokenClaims, created_at: datetime) -> bool:
    """A token is only good for the account that existed when it was issued: one issued before
    the account was created (an id that came back) is refused."""
    return claims.issued_at >= int(as_utc(created_at).timestamp())
