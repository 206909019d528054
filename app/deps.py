"""How routes get their collaborators: only through what this module gives.

Each reads the one `Collaborators` object the app's lifespan put on `app.state`
(app/collaborators.py). A route that needs several asks for `CollaboratorsDep` — one
dependency instead of one per collaborator; a route that needs one or two keeps the one-line
aliases below. The upload route takes none at all (`collaborators(request)`,
`authenticated_user`; the comment in app/videos/router.py says why). A test gives the app its
own: `app.state.collaborators = ...` (tests/fast/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.cookies import SESSION_COOKIE, request_token
from app.auth.security import decode_token, issued_to
from app.auth.throttle import LoginThrottle
from app.collaborators import Collaborators
from app.errors import Unauthorized
from app.videos.live import LiveHub
from app.videos.standing import Forecaster
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.models import User
from core.settings import Settings
from core.storage import Storage

_bearer = HTTPBearer(auto_error=False, description="JWT from /api/auth/login")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Browser session from POST /api/auth/session (writes also need X-CSRF-Token)",
)


def collaborators(request: Request) -> Collaborators:
    found: Collaborators = request.app.state.collaborators
    return found


async def get_collaborators(request: Request) -> Collaborators:
    return collaborators(request)


CollaboratorsDep = Annotated[Collaborators, Depends(get_collaborators)]


async def get_settings(c: CollaboratorsDep) -> Settings:
    return c.settings


async def get_database(c: CollaboratorsDep) -> Database:
    return c.database


async def get_storage(c: CollaboratorsDep) -> Storage:
    return c.storage


async def get_publisher(c: CollaboratorsDep) -> JobPublisher:
    return c.publisher


async def get_login_throttle(c: CollaboratorsDep) -> LoginThrottle:
    return c.login_throttle


async def get_forecaster(c: CollaboratorsDep) -> Forecaster:
    return c.forecaster


async def get_live_hub(c: CollaboratorsDep) -> LiveHub:
    return c.live_hub


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StorageDep = Annotated[Storage, Depends(get_storage)]
PublisherDep = Annotated[JobPublisher, Depends(get_publisher)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
ForecasterDep = Annotated[Forecaster, Depends(get_forecaster)]
LiveHubDep = Annotated[LiveHub, Depends(get_live_hub)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CookieDep = Annotated[str | None, Depends(_cookie)]


async def get_session(c: CollaboratorsDep) -> AsyncIterator[AsyncSession]:
    async with c.database.session_scope() as session:
        yield session


# scope="function": commit (and enqueue) finish before the response is sent, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _user(c: Collaborators, token: str | None) -> User | None:
    """Looked up in a short session of its own: the request's unit of work must not hold a
    pooled connection while an upload body streams in (100 uploading users exhausted the pool);
    and only once per AUTH_USER_CACHE_SECONDS per process (app/auth/known_users.py)."""
    if token is None:
        return None
    claims = decode_token(token, c.settings)
    user = None
    if claims is not None:
        user = c.known_users.get(claims.user_id)
        if user is None:
            async with c.database.sessions() as session:
                user = await session.get(User, claims.user_id)
            if user is not None:
                c.known_users.remember(user)
    if user is None or claims is None or not issued_to(claims, user.created_at):
        raise Unauthorized()
    return user


async def _token(
    request: Request, c: CollaboratorsDep, _bearer_header: BearerDep, _session_cookie: CookieDep
) -> str | None:
    """A Bearer header, else the browser session cookie with its CSRF check on writes
    (app/auth/cookies.py). The two unused parameters declare both schemes in OpenAPI."""
    return request_token(request, c.settings)


TokenDep = Annotated[str | None, Depends(_token)]


async def _optional_user(c: CollaboratorsDep, token: TokenDep) -> User | None:
    return await _user(c, token)


async def _current_user(c: CollaboratorsDep, token: TokenDep) -> User:
    user = await _user(c, token)
    if user is None:
        raise Unauthorized("Not authenticated")
    return user


async def authenticated_user(request: Request, c: Collaborators) -> User:
    """`CurrentUser` for a route that takes no dependencies: the same token rules, the same
    checks, the same 401s. (Its OpenAPI `security` is then declared on the route.)"""
    user = await _user(c, request_token(request, c.settings))
    if user is None:
        raise Unauthorized("Not authenticated")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
