"""Signup (hash before touching the database) and login (no pooled connection held while
bcrypt runs; the same work for an unknown email as for a wrong password)."""

from __future__ import annotations

import time

import jwt
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.schemas import LoginRequest, SignupRequest, TokenOut
from app.auth.security import (
    MAX_PASSWORD_BYTES,
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)
from app.auth.throttle import LoginThrottle
from app.errors import BadRequest, Unauthorized
from core.db import release_connection
from core.models import User
from core.settings import Settings

_dummy_hash: str | None = None


async def _hash_for_unknown_email(settings: Settings) -> str:
    """A hash at the configured cost: unknown emails take as long to refuse as bad passwords."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password("unknown-user-placeholder", settings)
    return _dummy_hash


async def signup(session: AsyncSession, data: SignupRequest, settings: Settings) -> User:
    if data.password1 != data.password2:
        raise BadRequest("Passwords do not match")
    if len(data.password1.encode()) > MAX_PASSWORD_BYTES:  # bcrypt would cut it silently
        # A 400 like the other password rules: JSON Schema counts characters, not bytes.
        raise BadRequest(f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    # Hash first: the slow CPU work happens before this request takes a pooled connection.
    password_hash = await hash_password(data.password1, settings)
    email = data.email.lower()
    if await session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise BadRequest("Email already registered")
    user = User(
        email=email,
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        city=data.city.strip() if data.city else None,
        country=data.country.strip() if data.country else None,
        password_hash=password_hash,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent signup won the race for this email
        raise BadRequest("Email already registered") from None
    return user


async def login(
    session: AsyncSession, data: LoginRequest, settings: Settings, throttle: LoginThrottle
) -> TokenOut:
    await throttle.check(data.email)
    row = (
        await session.execute(
            select(User.id, User.password_hash).where(User.email == data.email.strip().lower())
        )
    ).one_or_none()
    await release_connection(session)  # not held while bcrypt runs
    stored = row.password_hash if row else await _hash_for_unknown_email(settings)
    valid = await verify_password(data.password, stored)
    if row is None or not valid:
        await throttle.failed(data.email)
        raise Unauthorized("Invalid email or password")
    return TokenOut(
        access_token=create_access_token(row.id, settings), expires_in=settings.jwt_expires_seconds
    )


async def token_owner(session: AsyncSession, token: str, settings: Settings) -> User:
    """The user a token this process just issued names."""
    user_id = decode_access_token(token, settings)
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Unauthorized("Invalid email or password")
    return user


def seconds_left(token: str, settings: Settings) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return max(0, int(claims.get("exp", 0) - time.time()))
