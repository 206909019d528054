"""GET /api/play/{link}/{path}: an HLS tree behind a signed playback link (app/playback/tokens.py),
for players that cannot send an Authorization header. Links come with a video's `outputs` (its
owner's view, or anyone's once published); a forged, expired or widened link is a 404."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

from app.deps import SessionDep, SettingsDep, StorageDep
from app.errors import NotFound
from app.openapi import errors
from app.playback import service, tokens

router = APIRouter(prefix="/api/play", tags=["playback"])
_PLAYLIST = {"application/vnd.apple.mpegurl": {"schema": {"type": "string"}}}
_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/{link}/{path:path}",
    response_class=Response,
    responses={
        200: {
            "description": "A playlist or segment",
            "content": {**_PLAYLIST, "video/iso.segment": _BINARY, "video/mp4": _BINARY},
        },
        206: {"description": "Part of a segment (Range)"},
        307: {"description": "Redirect to a presigned URL (S3 storage)"},
        **errors(404),
    },
)
async def play(
    link: str, path: str, settings: SettingsDep, session: SessionDep, storage: StorageDep
) -> Response:
    video_id = tokens.verify(settings, link)
    if video_id is None:
        raise NotFound(service.GONE)
    stored = await service.file_for(session, video_id, path)
    if stored.playlist:
        text = await service.playlist(storage, stored)
        return Response(text, media_type=stored.media_type, headers={"Cache-Control": "private"})
    filename = path.rsplit("/", 1)[-1]
    url = storage.download_url(stored.key, filename, stored.media_type)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    local = storage.local_path(stored.key)
    if not await anyio.Path(local).is_file():  # deleted since the row was read
        raise NotFound(service.GONE)
    return FileResponse(local, media_type=stored.media_type)
