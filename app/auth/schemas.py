"""Request and response bodies of the auth routes (the seed API's field names)."""

from __future__ import annotations

import email_validator
from pydantic import BaseModel, EmailStr, Field

from app.auth.security import MAX_PASSWORD_BYTES
from app.params import text_field

# An email here is an account's name, never mailed: addresses at reserved domains (.test, .local)
# are as valid as JSON Schema's `format: email` says they are. (email-validator documents this
# list as the switch.)
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()


class SignupRequest(BaseModel):
    first_name: str = text_field(min_length=1, max_length=100)
    last_name: str = text_field(min_length=1, max_length=100)
    email: EmailStr
    password1: str = Field(
        min_length=8,
        max_length=MAX_PASSWORD_BYTES,
        description=f"8 characters or more, at most {MAX_PASSWORD_BYTES} bytes in UTF-8",
    )
    password2: str = Field(max_length=MAX_PASSWORD_BYTES)
    city: str | None = text_field(default=None, max_length=100)
    country: str | None = text_field(default=None, max_length=100)


class UserOut(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str
    city: str | None
    country: str | None


class LoginRequest(BaseModel):
    email: str = text_field(max_length=320)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class SessionOut(BaseModel):
    """A browser session: the token itself is in the httpOnly `rf_session` cookie, never here."""

    user: UserOut
    csrf_token: str = Field(description="Send as X-CSRF-Token with every write of this session")
    expires_in: int = Field(description="Seconds until the session expires")
