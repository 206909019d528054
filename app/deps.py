"""How routes get their collaborators: only through these Annotated dependencies.

Each reads what the app's lifespan built (`app.state`): settings, database, storage, job
publisher (admission: app/videos/admission.py). A test overrides any of them with
`app.dependency_overrides[get_x] = ...`; route signatures stay one line long.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.known_users import KnownUsersDep
from app.auth.security import decode_token, issued_to
from app.errors import Unauthorized
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.models import User
from core.settings import Settings
from core.storage import Storage

_bearer = HTTPBearer(auto_error=False, description="JWT from /api/auth/login")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_publisher(request: Request) -> JobPublisher:
    publisher: JobPublisher = request.app.state.publisher
    return publisher


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StorageDep = Annotated[Storage, Depends(get_storage)]
PublisherDep = Annotated[JobPublisher, Depends(get_publisher)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    async with database.session_scope() as session:
        yield session


# scope="function": commit (and enqueue) finish before the response is sent, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _optional_user(
    settings: SettingsDep, database: DatabaseDep, known: KnownUsersDep, creds: BearerDep
) -> User | None:
    """Looked up in a short session of its own: the request's unit of work must not hold a
    pooled connection while an upload body streams in (100 uploading users exhausted the pool);
    and only once per AUTH_USER_CACHE_SECONDS per process (app/auth/known_users.py)."""
    if creds is None:
        return None
    claims = decode_token(creds.credentials, settings)
    user = None
    if claims is not None:
        user = known.get(claims.user_id)
        if user is None:
            async with database.sessions() as session:
                user = await session.get(User, claims.user_id)
            if user is not None:
                known.remember(user)
    if user is None or claims is None or not issued_to(claims, user.created_at):
        raise Unauthorized()
    return user


async def _current_user(user: Annotated[User | None, Depends(_optional_user)]) -> User:
    if user is None:
        raise Unauthorized("Not authenticated")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
