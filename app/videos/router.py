"""Routes /api/videos: upload (202), list, detail, delete, publish, file download. Thin: each
validates, calls one service function and returns a schema."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sse_starlette import EventSourceResponse

from app.deps import (
    CurrentUser,
    ForecasterDep,
    LiveHubDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    StorageDep,
    authenticated_user,
    collaborators,
)
from app.metrics import UPLOAD_BYTES, UPLOAD_DURATION
from app.openapi import LOCATION, TOTAL_COUNT, errors, with_headers
from app.pagination import PageDep, set_total
from app.params import VideoId
from app.playback.tokens import play_url
from app.ratelimit import limit
from app.videos import idempotency, service
from app.videos.live import live_events
from app.videos.schemas import UploadAccepted, Variant, VideoDeleted, VideoDetail, VideoSummary
from app.videos.upload import FILE_FIELD, PROFILE_FIELD, TITLE_FIELD, receive_video_upload
from core.profiles import HLS_MASTER

router = APIRouter(prefix="/api/videos", tags=["videos"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILE = {"content": {t: _BINARY for t in ("video/mp4", "image/jpeg", "application/octet-stream")}}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD, TITLE_FIELD],
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary"},
                        TITLE_FIELD: {"type": "string", "minLength": 1, "maxLength": 255},
                        PROFILE_FIELD: {
                            "type": "string",
                            "description": "Output profile (GET /api/profiles); default reel",
                        },
                    },
                }
            }
        },
    }
}


_IDEMPOTENCY_HELP = "Retry-safe uploads: same key + same upload within 24 h = same job"
# What FastAPI would generate for the signature this route does not have (see upload_video).
_UPLOAD_OPERATION = {
    **_UPLOAD_BODY,
    "security": [{"HTTPBearer": []}, {"APIKeyCookie": []}],
    "parameters": [
        {
            "name": "idempotency-key",
            "in": "header",
            "required": False,
            "description": _IDEMPOTENCY_HELP,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "title": "Idempotency-Key",
                "description": _IDEMPOTENCY_HELP,
                "minLength": 1,
                "maxLength": 255,
                "pattern": r"^[\x21-\x7e]+$",
            },
        }
    ],
}


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadAccepted,
    openapi_extra=_UPLOAD_OPERATION,
    responses={
        202: with_headers(UploadAccepted, LOCATION, "Accepted: the job is queued"),
        **errors(400, 401, 408, 413, 415, 422, 429, 503, 507),
    },
    summary="Stream a video to storage and queue it for processing",
)
@limit("upload")
async def upload_video(request: Request) -> JSONResponse:
    # The service's hot path takes no FastAPI dependencies: resolving them cost ~2 ms of API
    # CPU per upload under load (py-spy, 100 users) — more than the database write — and on a
    # busy API tier that CPU is throughput. It gets what the dependencies would give it from
    # the same functions (app/deps.py); the app-wide rate limit still runs first.
    c = collaborators(request)
    user = await authenticated_user(request, c)
    key = idempotency.validated(request.headers.get("idempotency-key"))
    await c.admission.check()  # before reading a byte of the body
    await service.check_quotas(c.database, c.settings, user)
    started = time.perf_counter()
    async with c.upload_slots.hold(user.id):
        upload = await receive_video_upload(request, c.storage, c.settings, digest=key is not None)
    UPLOAD_DURATION.observe(time.perf_counter() - started)
    UPLOAD_BYTES.inc(upload.size)
    # The request's unit of work, opened only now that the bytes are stored: commit, then
    # enqueue (what SessionDep does, without a dependency).
    async with c.database.session_scope() as session:
        body = await service.accept_upload(
            session, c.storage, c.publisher, c.settings, user, upload, key
        )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": body.status_url}
    )


@router.get(
    "",
    response_model=list[VideoSummary],
    responses={200: with_headers(None, TOTAL_COUNT), **errors(400, 401)},
)
async def list_videos(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    response: Response,
    forecaster: ForecasterDep,
    settings: SettingsDep,
) -> list[VideoSummary]:
    videos, total = await service.list_videos(session, user, page)
    set_total(response, total)
    standings = await forecaster.standings(session, videos)
    return [service.summary(settings, v, standings[v.id]) for v in videos]


@router.get("/{video_id:int}", response_model=VideoDetail, responses=errors(401, 403, 404))
async def get_video(
    video_id: VideoId,
    user: CurrentUser,
    session: SessionDep,
    forecaster: ForecasterDep,
    settings: SettingsDep,
) -> VideoDetail:
    video = await service.get_owned_video(session, user, video_id)
    return await service.detail(settings, video, await forecaster.standing(session, video))


_EVENT_STREAM = {
    "description": "Server-Sent Events: one `data:` JSON object per change, `id:` on each, "
    "a `: ping` comment every SSE_HEARTBEAT_SECONDS; the stream ends after processed/failed",
    "content": {
        "text/event-stream": {
            "schema": {"type": "string"},
            "example": 'id: processing.42.0\ndata: {"status": "processing", "progress": 42, '
            '"queue_position": null, "eta_seconds": 17, "error": null}\n\n',
        }
    },
}


@router.get(
    "/{video_id:int}/events",
    response_class=EventSourceResponse,
    responses={200: _EVENT_STREAM, **errors(401, 403, 404)},
    summary="Follow a video's status, progress, queue position and ETA live (SSE)",
)
async def video_events(
    video_id: VideoId,
    user: CurrentUser,
    session: SessionDep,
    hub: LiveHubDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None,
        Header(description="The last `id:` received: its state is not sent again", max_length=64),
    ] = None,
) -> EventSourceResponse:
    await service.get_owned_video(session, user, video_id)  # the session closes before streaming
    return EventSourceResponse(
        live_events(hub.stream(video_id, last_event_id)), ping=settings.sse_heartbeat_seconds
    )


@router.delete("/{video_id:int}", response_model=VideoDeleted, responses=errors(400, 401, 403, 404))
async def delete_video(
    video_id: VideoId, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> VideoDeleted:
    await service.delete_video(session, storage, user, video_id)
    return VideoDeleted(video_id=video_id)


@router.post(
    "/{video_id:int}/publish", response_model=VideoDetail, responses=errors(401, 403, 404, 409)
)
async def publish_video(
    video_id: VideoId, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> VideoDetail:
    video = await service.publish_video(session, user, video_id)
    return await service.detail(settings, video)


@router.get(
    "/{video_id:int}/file",
    response_class=FileResponse,
    responses={
        200: {"description": "The file", **_FILE},
        206: {"description": "Partial content (Range)", **_FILE},
        307: {
            "description": "Redirect to a presigned URL (S3 storage)",
            "headers": {
                "Location": {"description": "The presigned URL", "schema": {"type": "string"}}
            },
        },
        **errors(404),
    },
    # A token is optional: published videos' processed file and thumbnail are public.
    openapi_extra={"security": [{}, {"HTTPBearer": []}, {"APIKeyCookie": []}]},
    summary="Download the original, processed video or thumbnail (supports Range)",
)
async def download_file(
    video_id: VideoId,
    user: OptionalUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    variant: Variant = "processed",
) -> Response:
    stored = await service.file_for(session, storage, user, video_id, variant)
    if stored.key.endswith("/" + HLS_MASTER):  # an hls output: its signed master playlist
        return RedirectResponse(play_url(settings, video_id, HLS_MASTER), status_code=307)
    url = storage.download_url(stored.key, stored.filename, stored.media_type)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    return FileResponse(
        storage.local_path(stored.key), media_type=stored.media_type, filename=stored.filename
    )
