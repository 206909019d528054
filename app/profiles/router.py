"""GET /api/profiles: the output profiles an upload may choose (`profile`), and what each makes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.deps import SettingsDep
from core.profiles import DEFAULT_PROFILE, Profile, load_profiles

router = APIRouter(prefix="/api/profiles", tags=["profiles"])


class ProfileOut(BaseModel):
    name: str
    default: bool = Field(description="Used when an upload names no profile")
    definition: Profile


@router.get("", response_model=list[ProfileOut])
async def list_profiles(settings: SettingsDep) -> list[ProfileOut]:
    profiles = load_profiles(settings.profiles_file)  # parsed once at start-up: no I/O here
    return [
        ProfileOut(name=name, default=name == DEFAULT_PROFILE, definition=profile)
        for name, profile in profiles.items()
    ]
