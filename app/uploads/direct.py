"""Direct-to-S3 uploads at /api/direct-uploads (S3 backend only; 409 otherwise): the client
sends the bytes straight to the bucket with short-lived presigned part URLs — Uppy's
@uppy/aws-s3 multipart flow — and the API only signs, lists, verifies and creates the job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.deps import CurrentUser, DatabaseDep, PublisherDep, SettingsDep, StorageDep
from app.errors import NotFound
from app.openapi import errors
from app.ratelimit import limit
from app.uploads import direct_service as service
from app.uploads.protocol import UPLOAD_ID
from app.uploads.service import NOT_FOUND
from app.videos.schemas import UploadAccepted
from core.models import as_utc
from core.storage.direct import MAX_PARTS

router = APIRouter(prefix="/api/direct-uploads", tags=["uploads (direct to S3)"])
PartNumber = Annotated[int, Path(ge=1, le=MAX_PARTS)]


class DirectUploadIn(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    filename: str | None = Field(default=None, max_length=255)
    size: int = Field(gt=0, le=10**15, description="Bytes the client will upload")
    profile: str | None = Field(
        default=None, max_length=40, description="Output profile (GET /api/profiles); default reel"
    )


class DirectUploadOut(BaseModel):
    upload_id: str
    key: str
    part_size: int = Field(description="Bytes per part (the last may be smaller)")
    max_parts: int
    expires_at: str


class PartUrlOut(BaseModel):
    url: str
    expires_in: int


class PartOut(BaseModel):
    part_number: int
    size: int
    etag: str


class PartIn(BaseModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=128)


class CompleteIn(BaseModel):
    parts: list[PartIn] = Field(min_length=1, max_length=MAX_PARTS)


def _checked(upload_id: str) -> str:
    if not UPLOAD_ID.match(upload_id):
        raise NotFound(NOT_FOUND)
    return upload_id


@router.post(
    "",
    status_code=201,
    response_model=DirectUploadOut,
    responses=errors(400, 401, 409, 413, 429, 507),
    summary="Start a direct upload: the server picks the key and opens an S3 multipart upload",
)
@limit("tus")
async def create_direct_upload(
    request: Request,
    body: DirectUploadIn,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
) -> DirectUploadOut:
    upload = await service.create(
        database, storage, settings, user, body.title, body.filename, body.size, body.profile
    )
    return DirectUploadOut(
        upload_id=upload.id,
        key=upload.key,
        part_size=service.part_size(body.size),
        max_parts=MAX_PARTS,
        expires_at=as_utc(upload.expires_at).isoformat(),
    )


@router.post(
    "/{upload_id}/parts/{part_number}",
    response_model=PartUrlOut,
    responses=errors(400, 401, 404, 409, 410),
    summary="A presigned URL to PUT one part",
)
@limit("tus")
async def sign_part(
    request: Request,
    upload_id: str,
    part_number: PartNumber,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
) -> PartUrlOut:
    direct = service.direct_uploads(storage, settings)
    upload = await service.owned(database, user, _checked(upload_id))
    url = await service.sign_part(direct, upload, part_number)
    return PartUrlOut(url=url, expires_in=settings.direct_part_url_seconds)


@router.get(
    "/{upload_id}/parts",
    response_model=list[PartOut],
    responses=errors(401, 404, 409, 410),
    summary="Parts S3 has (to resume)",
)
@limit("tus")
async def list_parts(
    request: Request,
    upload_id: str,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
) -> list[dict[str, object]]:
    direct = service.direct_uploads(storage, settings)
    upload = await service.owned(database, user, _checked(upload_id))
    return await service.list_parts(direct, upload)


@router.post(
    "/{upload_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadAccepted,
    responses=errors(400, 401, 404, 409, 410, 413, 415, 429, 507),
    summary="Assemble the parts, verify the object, queue the job",
)
@limit("tus")
async def complete(
    request: Request,
    upload_id: str,
    body: CompleteIn,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
    publisher: PublisherDep,
) -> JSONResponse:
    service.direct_uploads(storage, settings)
    upload = await service.owned(database, user, _checked(upload_id))
    parts = [(p.part_number, p.etag) for p in body.parts]
    video_id, task_id, status_url = await service.complete(
        database, storage, publisher, settings, user, upload, parts
    )
    accepted = UploadAccepted(task_id=task_id, video_id=video_id, status_url=status_url)
    return JSONResponse(
        accepted.model_dump(mode="json"), status_code=202, headers={"Location": status_url}
    )


@router.delete(
    "/{upload_id}",
    status_code=204,
    responses=errors(401, 404, 409, 410),
    summary="Abort: S3 drops the parts",
)
@limit("tus")
async def abort(
    request: Request,
    upload_id: str,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
) -> Response:
    direct = service.direct_uploads(storage, settings)
    upload = await service.owned(database, user, _checked(upload_id))
    await service.abort(database, direct, upload)
    return Response(status_code=204)
