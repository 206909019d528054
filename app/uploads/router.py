"""tus 1.0.0 resumable uploads at /api/uploads: generic tus clients (tuspy, tus-js-client, Uppy)
upload with Bearer auth and an Upload-Metadata `title`; the last byte creates the job through the
multipart path's own service function. GET on an upload answers JSON for clients that want the
job: {upload_id, offset, length, complete, video_id, status_url}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from app.deps import CollaboratorsDep, CurrentUser, DatabaseDep, SettingsDep, StorageDep
from app.errors import BadRequest, DomainError, NotFound, UnsupportedMedia
from app.openapi import errors
from app.ratelimit import exempt, limit
from app.uploads import service
from app.uploads.append import append_held
from app.uploads.protocol import (
    CHECKSUM_ALGORITHMS,
    EXTENSIONS,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    UPLOAD_ID,
    http_date,
    parse_length,
    parse_metadata,
    require_version,
)
from core.models import Upload, as_utc
from core.storage.resumable import resumable_store

router = APIRouter(prefix="/api/uploads", tags=["uploads (tus)"])
TusHeader = Annotated[
    str | None,
    Header(
        alias="Tus-Resumable",
        description="Required by tus on every request: 1.0.0 (412 without it)",
        json_schema_extra={"enum": ["1.0.0"]},
    ),
]


class UploadStatus(BaseModel):
    upload_id: str
    offset: int
    length: int
    complete: bool
    video_id: int | None
    status_url: str | None
    expires_at: str


def _checked_id(upload_id: str) -> str:
    if not UPLOAD_ID.match(upload_id):
        raise NotFound(service.NOT_FOUND)  # never a path: ids are 32 hex characters
    return upload_id


def _common(upload: Upload) -> dict[str, str]:
    return {"Upload-Expires": http_date(as_utc(upload.expires_at)), "Cache-Control": "no-store"}


def _done(video_id: int | None) -> dict[str, str]:
    if video_id is None:
        return {}
    return {"X-Video-ID": str(video_id), "Link": f'</api/videos/{video_id}>; rel="related"'}


@router.options("", include_in_schema=False)
@router.options("/{upload_id}", include_in_schema=False)
@exempt
async def discover(request: Request, settings: SettingsDep) -> Response:
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@router.post(
    "",
    status_code=201,
    responses=errors(400, 401, 409, 412, 413, 415, 429, 507),
    summary="Create a resumable upload (tus creation, creation-with-upload)",
)
@limit("tus")
async def create_upload(
    request: Request,
    user: CurrentUser,
    c: CollaboratorsDep,
    tus_resumable: TusHeader = None,
    upload_length: Annotated[str | None, Header(alias="Upload-Length")] = None,
    upload_metadata: Annotated[str | None, Header(alias="Upload-Metadata")] = None,
    upload_checksum: Annotated[str | None, Header(alias="Upload-Checksum")] = None,
) -> Response:
    require_version(tus_resumable)
    if request.headers.get("upload-defer-length") is not None:
        raise BadRequest("Upload-Defer-Length is not supported: send Upload-Length")
    length = parse_length(upload_length, "Upload-Length")
    upload = await service.create(
        c.database, c.settings, user, length, parse_metadata(upload_metadata)
    )
    headers = {"Location": f"/api/uploads/{upload.id}", **_common(upload)}
    has_body = request.headers.get("content-type", "").startswith(OFFSET_CONTENT_TYPE)
    if not has_body:
        return Response(status_code=201, headers=headers)
    # creation-with-upload: the first chunk rides along. If it fails, the upload still exists
    # (unless it was terminated as not a video): the error carries its Location to resume from.
    held = await service.hold(c.database, c.settings, user, upload.id, 0)
    try:
        offset, video_id = await append_held(request, held, c, user, upload_checksum)
    except DomainError as exc:
        if exc.status_code != UnsupportedMedia.status_code:
            exc.headers = {**(exc.headers or {}), "Location": headers["Location"]}
        raise
    return Response(
        status_code=201, headers={**headers, "Upload-Offset": str(offset), **_done(video_id)}
    )


@router.head("/{upload_id}", responses=errors(401, 404, 410, 412))
@limit("tus")
async def upload_offset(
    request: Request,
    upload_id: str,
    user: CurrentUser,
    database: DatabaseDep,
    tus_resumable: TusHeader = None,
) -> Response:
    require_version(tus_resumable)
    async with database.sessions() as session:
        upload = await service.owned(session, user, _checked_id(upload_id))
    return Response(
        status_code=200,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            **_common(upload),
            **_done(upload.video_id),
        },
    )


@router.patch(
    "/{upload_id}",
    status_code=204,
    responses=errors(400, 401, 404, 408, 409, 410, 412, 413, 415, 423, 460),
    summary="Append bytes at Upload-Offset (tus core, checksum)",
)
@limit("tus")
async def append(
    request: Request,
    upload_id: str,
    user: CurrentUser,
    c: CollaboratorsDep,
    tus_resumable: TusHeader = None,
    upload_offset: Annotated[str | None, Header(alias="Upload-Offset")] = None,
    upload_checksum: Annotated[str | None, Header(alias="Upload-Checksum")] = None,
) -> Response:
    require_version(tus_resumable)
    if not request.headers.get("content-type", "").startswith(OFFSET_CONTENT_TYPE):
        raise UnsupportedMedia(f"PATCH bodies must be {OFFSET_CONTENT_TYPE}")
    client_offset = parse_length(upload_offset, "Upload-Offset")
    held = await service.hold(c.database, c.settings, user, _checked_id(upload_id), client_offset)
    if held.already_complete:
        return Response(
            status_code=204,
            headers={
                "Upload-Offset": str(held.upload.length),
                **_common(held.upload),
                **_done(held.upload.video_id),
            },
        )
    offset, video_id = await append_held(request, held, c, user, upload_checksum)
    return Response(
        status_code=204,
        headers={
            "Upload-Offset": str(offset),
            **_common(held.upload),
            **_done(video_id),
        },
    )


@router.delete(
    "/{upload_id}",
    status_code=204,
    responses=errors(401, 404, 409, 410, 412, 423),
    summary="Abandon an upload and free its bytes (tus termination)",
)
@limit("tus")
async def terminate(
    request: Request,
    upload_id: str,
    user: CurrentUser,
    settings: SettingsDep,
    database: DatabaseDep,
    storage: StorageDep,
    tus_resumable: TusHeader = None,
) -> Response:
    require_version(tus_resumable)
    store = resumable_store(storage, settings.s3_part_bytes)
    await service.terminate_owned(database, store, user, _checked_id(upload_id))
    return Response(status_code=204)


@router.get(
    "/{upload_id}",
    response_model=UploadStatus,
    responses=errors(401, 404, 410),
    summary="An upload's progress and, once complete, its video",
)
async def upload_status(
    request: Request, upload_id: str, user: CurrentUser, database: DatabaseDep
) -> UploadStatus:
    async with database.sessions() as session:
        upload = await service.owned(session, user, _checked_id(upload_id))
    return UploadStatus(
        upload_id=upload.id,
        offset=upload.offset,
        length=upload.length,
        complete=upload.video_id is not None,
        video_id=upload.video_id,
        status_url=f"/api/videos/{upload.video_id}" if upload.video_id is not None else None,
        expires_at=as_utc(upload.expires_at).isoformat(),
    )
