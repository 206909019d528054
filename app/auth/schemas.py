"""Request and response bodies of the auth routes (the seed API's field names)."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from app.auth.security import MAX_PASSWORD_BYTES


class SignupRequest(BaseModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr
    password1: str = Field(min_length=8, max_length=MAX_PASSWORD_BYTES)
    password2: str = Field(max_length=MAX_PASSWORD_BYTES)
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)


class UserOut(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str
    city: str | None
    country: str | None


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
