"""Routes /api/auth/signup and /api/auth/login: validate, call the auth service, return a schema."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from app.auth import service
from app.auth.schemas import LoginRequest, SignupRequest, TokenOut, UserOut
from app.deps import LoginThrottleDep, SessionDep, SettingsDep
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
