"""Annotated dependencies that keep route signatures one line long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.security import decode_access_token
from app.db import Database
from app.errors import Unauthorized
from app.models import User
from app.settings import Settings, get_settings
from app.storage import Storage

_bearer = HTTPBearer(auto_error=False, description="JWT from /api/auth/login")


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async for session in database.session_scope():
        yield session


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (and enqueue) finish before the response is sent, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
StorageDep = Annotated[Storage, Depends(_storage)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _optional_user(request: Request, settings: SettingsDep, creds: BearerDep) -> User | None:
    """Looked up in a short session of its own: the request's unit of work must not hold a
    pooled connection while an upload body streams in (100 uploading users exhausted the pool)."""
    if creds is None:
        return None
    user_id = decode_access_token(creds.credentials, settings)
    user = None
    if user_id is not None:
        database: Database = request.app.state.database
        async with database.sessions() as session:
            user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized()
    return user


async def _current_user(user: Annotated[User | None, Depends(_optional_user)]) -> User:
    if user is None:
        raise Unauthorized("Not authenticated")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
