"""Direct-to-S3 uploads against the S3 server of `make stack`: the client PUTs parts to
presigned URLs (the bytes never touch the API), lists parts to resume, completes; the API
verifies the object and queues the job — or deletes an object that is too large, not as
declared, or not a video."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import httpx

from devstack.servers import wait_until
from devstack.stack import Stack
from tests.api_client import Api
from tests.tus_clients import original_bytes, sha256

MIB = 1024 * 1024


def _s3(stack: Stack):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=stack.services.s3_url, region_name="us-east-1",
                        aws_access_key_id="reelforge", aws_secret_access_key="reelforge-secret")  # fmt: skip


def _start(api: Api, auth: dict[str, str], size: int, title: str = "direct") -> dict:  # type: ignore[type-arg]
    response = api.http.post("/api/direct-uploads", headers=auth,
                             json={"title": title, "filename": "clip.mp4", "size": size})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _put_part(api: Api, auth: dict[str, str], upload_id: str, number: int, data: bytes) -> str:
    signed = api.http.post(f"/api/direct-uploads/{upload_id}/parts/{number}", headers=auth)
    assert signed.status_code == 200, signed.text
    put = httpx.put(signed.json()["url"], content=data, timeout=60)  # straight to the bucket
    assert put.status_code == 200, put.text
    return put.headers["etag"]


def _complete(api: Api, auth: dict[str, str], upload_id: str, etags: list[str]) -> httpx.Response:
    parts = [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]
    return api.http.post(
        f"/api/direct-uploads/{upload_id}/complete", headers=auth, json={"parts": parts}
    )


def _send(api: Api, auth: dict[str, str], upload: dict, data: bytes) -> list[str]:  # type: ignore[type-arg]
    size = upload["part_size"]
    return [_put_part(api, auth, upload["upload_id"], n + 1, data[i : i + size])
            for n, i in enumerate(range(0, len(data), size))]  # fmt: skip


def test_full_flow_with_a_resume_from_the_part_list(
    native: Stack, edge: Api, clip_noise: Path
) -> None:
    data = clip_noise.read_bytes()
    auth = edge.user()
    upload = _start(edge, auth, len(data))
    assert upload["part_size"] == 5 * MIB and upload["key"].startswith("originals/")
    upload_id = upload["upload_id"]
    signed = edge.http.post(f"/api/direct-uploads/{upload_id}/parts/1", headers=auth).json()
    assert upload["key"] in signed["url"] and "X-Amz-Expires=900" in signed["url"]
    assert signed["expires_in"] == 900
    first = _put_part(edge, auth, upload_id, 1, data[: 5 * MIB])
    # The client restarts: it asks S3 (through the API) what it already has.
    have = edge.http.get(f"/api/direct-uploads/{upload_id}/parts", headers=auth).json()
    assert [(p["part_number"], p["size"], p["etag"]) for p in have] == [(1, 5 * MIB, first)]
    second = _put_part(edge, auth, upload_id, 2, data[5 * MIB :])
    done = _complete(edge, auth, upload_id, [first, second])
    assert done.status_code == 202, done.text
    video_id = done.json()["video_id"]
    assert done.headers["location"] == f"/api/videos/{video_id}"
    assert edge.wait_for(auth, video_id, timeout=180)["status"] == "processed"
    assert sha256(original_bytes(edge, auth, video_id)) == sha256(data)
    again = _complete(edge, auth, upload_id, [first, second])
    assert again.status_code == 409  # one job per upload


def test_abort_drops_the_parts(native: Stack, edge: Api) -> None:
    auth = edge.user()
    upload = _start(edge, auth, 6 * MIB)
    _put_part(edge, auth, upload["upload_id"], 1, os.urandom(5 * MIB))
    s3 = _s3(native)
    listed = s3.list_multipart_uploads(Bucket="reelforge").get("Uploads", [])
    assert upload["key"] in [u["Key"] for u in listed]
    assert (
        edge.http.delete(f"/api/direct-uploads/{upload['upload_id']}", headers=auth).status_code
        == 204
    )
    listed = s3.list_multipart_uploads(Bucket="reelforge").get("Uploads", [])
    assert upload["key"] not in [u["Key"] for u in listed]
    assert (
        edge.http.get(f"/api/direct-uploads/{upload['upload_id']}/parts", headers=auth).status_code
        == 404
    )


def _gone(stack: Stack, key: str) -> bool:
    return "Contents" not in _s3(stack).list_objects_v2(Bucket="reelforge", Prefix=key)


def test_an_object_over_the_limit_is_413_and_deleted(
    native: Stack, edge: Api, clip_noise: Path
) -> None:
    auth = edge.user()
    limit = 12 * MIB  # RELAXED's MAX_UPLOAD_BYTES
    upload = _start(edge, auth, limit)
    data = clip_noise.read_bytes()[:64] + os.urandom(limit + MIB - 64)
    done = _complete(edge, auth, upload["upload_id"], _send(edge, auth, upload, data))
    assert done.status_code == 413 and "deleted" in done.json()["detail"]
    assert _gone(native, upload["key"])


def test_an_object_that_is_not_as_declared_or_not_a_video_is_deleted(native: Stack, edge: Api,
                                                                      clip_noise: Path) -> None:  # fmt: skip
    auth = edge.user()
    upload = _start(edge, auth, 3 * MIB)
    wrong_size = _complete(edge, auth, upload["upload_id"],
                           _send(edge, auth, upload, clip_noise.read_bytes()[: 2 * MIB]))  # fmt: skip
    assert wrong_size.status_code == 400 and "declared" in wrong_size.json()["detail"]
    assert _gone(native, upload["key"])
    text = b"this is a text file, not a video\n" * 40_000
    upload = _start(edge, auth, len(text))
    not_video = _complete(edge, auth, upload["upload_id"], _send(edge, auth, upload, text))
    assert not_video.status_code == 415 and "MP4" in not_video.json()["detail"]
    assert _gone(native, upload["key"])


def test_another_users_upload_is_not_found(edge: Api) -> None:
    owner, other = edge.user(), edge.user()
    upload = _start(edge, owner, 6 * MIB)
    for method, path in (
        ("POST", "/parts/1"),
        ("GET", "/parts"),
        ("POST", "/complete"),
        ("DELETE", ""),
    ):
        response = edge.http.request(method, f"/api/direct-uploads/{upload['upload_id']}{path}",
                                     headers=other, json={"parts": [{"part_number": 1, "etag": "x"}]})  # fmt: skip
        assert response.status_code == 404, (method, path, response.status_code)
    # the owner aborts: no multipart upload is left open in the shared bucket
    assert (
        edge.http.delete(f"/api/direct-uploads/{upload['upload_id']}", headers=owner).status_code
        == 204
    )


def test_a_direct_upload_chooses_its_profile_and_plays_from_presigned_segments(
    native: Stack, edge: Api, clip_5s: Path
) -> None:
    """On S3 the media playlists name presigned GETs: segments come from the bucket, not the API."""
    data = clip_5s.read_bytes()
    auth = edge.user()
    unknown = edge.http.post("/api/direct-uploads", headers=auth,
                             json={"title": "x", "size": len(data), "profile": "8k"})  # fmt: skip
    assert unknown.status_code == 400 and unknown.json()["detail"].startswith("Unknown profile")
    response = edge.http.post("/api/direct-uploads", headers=auth,
                              json={"title": "ladder", "size": len(data), "profile": "hls"})  # fmt: skip
    upload = response.json()
    done = _complete(edge, auth, upload["upload_id"], _send(edge, auth, upload, data))
    assert done.status_code == 202, done.text
    video = edge.wait_for(auth, done.json()["video_id"], timeout=180)
    assert (video["status"], video["profile"]) == ("processed", "hls")
    master_url = video["processed_url"]
    master = edge.http.get(master_url).text
    first = next(line for line in master.splitlines() if line.endswith("/index.m3u8"))
    media_url = master_url.rsplit("/", 1)[0] + "/" + first
    media = edge.http.get(media_url).text
    segments = [line for line in media.splitlines() if line and not line.startswith("#")]
    init = media.split('URI="', 1)[1].split('"', 1)[0]
    s3_url = native.services.s3_url or ""
    assert s3_url and all(uri.startswith(s3_url) for uri in [init, *segments]), media
    for uri in [init, *segments]:
        got = httpx.get(uri, timeout=30)  # presigned: no token, no API in between
        assert got.status_code == 200 and got.content
    prefix = f"outputs/{video['video_id']}/"
    assert _s3(native).list_objects_v2(Bucket="reelforge", Prefix=prefix)["KeyCount"] > 10
    assert edge.http.delete(f"/api/videos/{video['video_id']}", headers=auth).status_code == 200
    wait_until(
        lambda: _s3(native).list_objects_v2(Bucket="reelforge", Prefix=prefix)["KeyCount"] == 0,
        10,
        "the outputs prefix to be deleted",
    )
