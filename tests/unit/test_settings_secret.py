"""Outside an explicit dev mode the API refuses to start without a real JWT secret."""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import jwt
import pytest

from app.main import InsecureConfiguration, create_app
from core.settings import DEV_SECRET, DEV_SECRET_FILE, Settings


def test_production_is_the_default_mode() -> None:
    assert Settings(_env_file=None).environment == "prod"  # type: ignore[call-arg]


@pytest.mark.parametrize("environment", ["prod", "test"])
@pytest.mark.parametrize(
    "secret", ["", "x", "changeme", DEV_SECRET, "x" * 64, "abcdefgh" * 4, "0123456789abcdef" * 2]
)
def test_weak_secrets_are_refused(environment: str, secret: str) -> None:
    settings = Settings(environment=environment, jwt_secret=secret)  # type: ignore[arg-type]
    assert settings.jwt_secret_problem() is not None
    with pytest.raises(InsecureConfiguration, match="JWT_SECRET"):
        create_app(settings)


def test_a_random_secret_is_accepted_and_dev_mode_may_use_the_placeholder() -> None:
    strong = Settings(environment="prod", jwt_secret=secrets.token_urlsafe(32))
    assert strong.jwt_secret_problem() is None and create_app(strong).title == "reelforge"
    dev = Settings(environment="dev")
    assert dev.jwt_secret_problem() is None


def test_dev_mode_makes_one_random_secret_per_checkout(tmp_path: Path) -> None:
    """Every process of `make run` signs with the same secret, ≥ 32 bytes (no PyJWT warning)."""
    first = Settings(environment="dev", var_dir=tmp_path)
    again = Settings(environment="dev", var_dir=tmp_path)
    assert first.jwt_secret == again.jwt_secret == (tmp_path / DEV_SECRET_FILE).read_text()
    assert len(first.jwt_secret) >= 32 and first.jwt_secret != DEV_SECRET
    assert (tmp_path / DEV_SECRET_FILE).stat().st_mode & 0o777 == 0o600
    other = Settings(environment="dev", var_dir=tmp_path / "elsewhere")
    assert other.jwt_secret != first.jwt_secret
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyJWT's InsecureKeyLengthWarning would raise here
        jwt.decode(jwt.encode({"sub": "1"}, first.jwt_secret, "HS256"), first.jwt_secret,
                   ["HS256"])  # fmt: skip
