"""Parameters and fields shared by the routers, with their bounds in the schema: an id outside
the database's integer range, or text with a NUL, is a 422 here, never a driver error later."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers

VideoId = Annotated[int, Path(ge=1, le=MAX_ID, description="A video's id")]
WebhookId = Annotated[int, Path(ge=1, le=MAX_ID, description="A webhook's id")]

# Text a database stores: no NUL characters (Postgres refuses them; SQLite truncates at them).
NO_NUL = r"^[^\x00]*$"


def text_field(**kwargs: Any) -> Any:
    """A pydantic Field for stored text: the NUL rule plus the caller's bounds."""
    return Field(pattern=NO_NUL, **kwargs)
