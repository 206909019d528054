"""Routes /api/auth/signup, /login (a Bearer token) and /session (a browser's httpOnly cookie):
validate, call the auth service, return a schema."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.auth import service
from app.auth.cookies import clear_session_cookie, csrf_token, request_token, set_session_cookie
from app.auth.schemas import LoginRequest, SessionOut, SignupRequest, TokenOut, UserOut
from app.deps import CurrentUser, LoginThrottleDep, SessionDep, SettingsDep
from app.openapi import errors
from app.ratelimit import limit

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/signup", status_code=status.HTTP_201_CREATED, response_model=UserOut, responses=errors(400)
)
@limit("auth")
async def signup(
    request: Request,
    data: SignupRequest,
    session: SessionDep,
    settings: SettingsDep,
) -> UserOut:
    user = await service.signup(session, data, settings)
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/login", response_model=TokenOut, responses=errors(400, 401))
@limit("auth")
async def login(
    request: Request,
    data: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
) -> TokenOut:
    return await service.login(session, data, settings, throttle)


@router.post(
    "/session",
    response_model=SessionOut,
    responses=errors(400, 401),
    summary="Log in a browser: the token goes into an httpOnly, SameSite=Strict cookie",
)
@limit("auth")
async def open_session(
    request: Request,
    response: Response,
    data: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
) -> SessionOut:
    issued = await service.login(session, data, settings, throttle)
    user = await service.token_owner(session, issued.access_token, settings)
    set_session_cookie(response, request, issued.access_token, settings)
    return SessionOut(
        user=UserOut.model_validate(user, from_attributes=True),
        csrf_token=csrf_token(issued.access_token, settings),
        expires_in=issued.expires_in,
    )


@router.get(
    "/session",
    response_model=SessionOut,
    responses=errors(401),
    summary="Who is signed in, and the CSRF token for this session's writes",
)
async def read_session(request: Request, user: CurrentUser, settings: SettingsDep) -> SessionOut:
    token = request_token(request, settings) or ""
    return SessionOut(
        user=UserOut.model_validate(user, from_attributes=True),
        csrf_token=csrf_token(token, settings),
        expires_in=service.seconds_left(token, settings),
    )


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(403),
    summary="Log out a browser: the session cookie is cleared",
)
async def close_session(request: Request, settings: SettingsDep) -> Response:
    request_token(request, settings)  # a cookie-authenticated logout needs its CSRF token too
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, request)
    return response
