"""The seed-compatible contract: JSON keys, status codes and messages existing clients rely on."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt

from devstack.servers import wait_until
from devstack.stack import Stack
from tests.api_client import PASSWORD, Api

SUMMARY_KEYS = {
    "video_id",
    "title",
    "status",
    "progress",
    "uploaded_at",
    "processed_at",
    "processed_url",
    # added (issue 10: clients know what is happening); the seed's keys are all kept
    "queue_position",
    "eta_seconds",
    # added (issue 30: retries wait per job): when a failed attempt's retry is due, else null
    "retry_at",
    # added (issue 29: output profiles): the profile the job makes; the detail lists its outputs
    "profile",
    # added (issue 32: the web client's list shows them without a request per row)
    "published",
    "thumbnail_url",
}
DETAIL_KEYS = SUMMARY_KEYS | {
    "error", "original_url", "duration_seconds", "votes", "outputs",
}  # fmt: skip
PUBLIC_KEYS = {
    "video_id", "id", "title", "uploaded_at", "processed_url", "thumbnail_url",
    "owner_name", "owner_city", "votes",
    "preview_url",  # added (issue 32): the animated preview's signed link, or null
}  # fmt: skip


def test_root_and_health(api: Api) -> None:
    root = api.http.get("/")
    assert root.status_code == 200 and "Healthcheck" in root.text
    health = api.http.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_ready_lists_every_check(api: Api) -> None:
    response = api.http.get("/ready")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "storage"}  # FFmpeg: worker.health
    assert all(c["status"] == "ok" for c in checks.values())


def test_signup_and_login(api: Api) -> None:
    email = f"Ada-{uuid.uuid4().hex[:8]}@Example.com"
    body = {"first_name": "Ada", "last_name": "L", "email": email, "password1": PASSWORD,
            "password2": PASSWORD, "city": "Cali", "country": "CO"}  # fmt: skip
    created = api.http.post("/api/auth/signup", json=body)
    assert created.status_code == 201
    assert set(created.json()) == {"id", "email", "first_name", "last_name", "city", "country"}
    assert created.json()["city"] == "Cali"

    again = api.http.post("/api/auth/signup", json=body)
    assert again.status_code == 400 and again.json() == {"detail": "Email already registered"}
    mismatch = api.http.post(
        "/api/auth/signup", json={**body, "email": "x" + email, "password2": "other-pass"}
    )
    assert mismatch.status_code == 400 and mismatch.json() == {"detail": "Passwords do not match"}
    short = api.http.post(
        "/api/auth/signup", json={**body, "password1": "short", "password2": "short"}
    )
    assert short.status_code == 422
    bad_email = api.http.post("/api/auth/signup", json={**body, "email": "not-an-email"})
    assert bad_email.status_code == 422

    login = api.http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()
    assert set(token) == {"access_token", "token_type", "expires_in"}
    assert token["token_type"] == "bearer"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == token["expires_in"]

    wrong = api.http.post("/api/auth/login", json={"email": email, "password": "wrong-password"})
    assert wrong.status_code == 401 and "detail" in wrong.json()
    unknown = api.http.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 8}
    )
    assert unknown.status_code == 401


def test_concurrent_signups_for_one_email_are_400_not_500(api: Api) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "first_name": "R",
        "last_name": "C",
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }

    def signup(_: int) -> int:
        return httpx.post(api.base_url + "/api/auth/signup", json=body, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(signup, range(8)))
    assert codes.count(201) == 1 and codes.count(400) == 7, codes


def test_tokens_missing_invalid_or_expired_are_401(api: Api, pg_stack: Stack) -> None:
    assert api.http.get("/api/videos").status_code == 401
    bad = api.http.get("/api/videos", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and "detail" in bad.json()
    user = api.signup()
    expired = jwt.encode(
        {"sub": str(user["id"]), "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        pg_stack.env["JWT_SECRET"], algorithm="HS256",
    )  # fmt: skip
    response = api.http.get("/api/videos", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    upload = api.upload_raw({"Authorization": f"Bearer {expired}"}, b"")
    assert upload.status_code == 401


def test_video_routes_keys_codes_and_ownership(api: Api, clip_small: Path) -> None:
    owner, stranger = api.user(), api.user()
    accepted = api.upload(owner, clip_small, title="Mine")
    assert accepted.status_code == 202
    assert set(accepted.json()) == {"message", "task_id", "video_id", "status", "status_url"}
    assert accepted.json()["message"] == "Video subido exitosamente. Procesamiento en cola."
    video_id = accepted.json()["video_id"]

    listing = api.http.get("/api/videos", headers=owner)
    assert listing.status_code == 200 and listing.headers["X-Total-Count"] == "1"
    assert set(listing.json()[0]) == SUMMARY_KEYS

    detail = api.video(owner, video_id)
    assert set(detail) == DETAIL_KEYS and isinstance(detail["votes"], int)

    forbidden = api.http.get(f"/api/videos/{video_id}", headers=stranger)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "You are not authorized to access this video"}
    missing = api.http.get("/api/videos/999999", headers=owner)
    assert missing.status_code == 404 and missing.json() == {"detail": "Video not found"}
    assert api.http.delete(f"/api/videos/{video_id}", headers=stranger).status_code == 403
    assert api.http.post(f"/api/videos/{video_id}/publish", headers=stranger).status_code == 403
    # Files answer 404 to anyone who may not see them: 403 would confirm that the id exists.
    assert (
        api.http.get(f"/api/videos/{video_id}/file?variant=original", headers=stranger).status_code
        == 404
    )
    assert api.http.get(f"/api/videos/{video_id}/file?variant=processed").status_code == 404
    assert api.http.delete("/api/videos/999999", headers=owner).status_code == 404

    processed = api.wait_for(owner, video_id)
    assert processed["status"] == "processed"
    published = api.http.post(f"/api/videos/{video_id}/publish", headers=owner)
    assert published.status_code == 200 and published.json()["published"] is True
    assert set(published.json()) == DETAIL_KEYS

    # Published: processed file and thumbnail are public, the original stays private.
    assert api.http.get(f"/api/videos/{video_id}/file?variant=processed").status_code == 200
    assert api.http.get(f"/api/videos/{video_id}/file?variant=thumbnail").status_code == 200
    assert api.http.get(f"/api/videos/{video_id}/file?variant=original").status_code == 404
    original = api.http.get(f"/api/videos/{video_id}/file?variant=original", headers=owner)
    assert original.status_code == 200 and original.content == clip_small.read_bytes()

    ranged = api.http.get(
        f"/api/videos/{video_id}/file?variant=processed", headers={"Range": "bytes=0-99"}
    )
    assert ranged.status_code == 206 and len(ranged.content) == 100

    delete_public = api.http.delete(f"/api/videos/{video_id}", headers=owner)
    assert delete_public.status_code == 400
    assert delete_public.json() == {"detail": "Cannot delete a public video"}

    public = api.http.get("/api/public/videos", params={"limit": 100})
    assert public.status_code == 200 and int(public.headers["X-Total-Count"]) >= 1
    mine = [v for v in public.json() if v["video_id"] == video_id]
    assert len(mine) == 1 and set(mine[0]) == PUBLIC_KEYS and mine[0]["id"] == video_id


def test_publish_before_processed_is_409(api: Api, pg_stack: Stack, clip_small: Path) -> None:
    owner = api.user()
    assert pg_stack.worker is not None
    pg_stack.worker.stop()
    try:
        video_id = api.upload(owner, clip_small).json()["video_id"]
        response = api.http.post(f"/api/videos/{video_id}/publish", headers=owner)
        assert response.status_code == 409 and "detail" in response.json()
    finally:
        pg_stack.start_worker()
    assert api.wait_for(owner, video_id)["status"] == "processed"


def test_delete_removes_files_and_cancels_a_queued_job(
    api: Api, pg_stack: Stack, clip_small: Path
) -> None:
    owner = api.user()
    assert pg_stack.worker is not None
    pg_stack.worker.stop()
    try:
        video_id = api.upload(owner, clip_small).json()["video_id"]
        originals_before = set((pg_stack.storage_dir / "originals").rglob("original"))
        deleted = api.http.delete(f"/api/videos/{video_id}", headers=owner)
        assert deleted.status_code == 200
        assert deleted.json() == {"message": "Video eliminado exitosamente", "video_id": video_id}
        originals_after = set((pg_stack.storage_dir / "originals").rglob("original"))
        assert len(originals_before - originals_after) == 1
        assert api.http.get(f"/api/videos/{video_id}", headers=owner).status_code == 404
    finally:
        pg_stack.start_worker()
    # The message is still in Redis: the worker must drop it, never produce outputs.
    skipped = "reelforge_worker_outcomes_total"
    wait_until(lambda: pg_stack.worker_metric(skipped, outcome="skipped", reason="missing") >= 1,
               20, "the worker to drop the deleted job's message")  # fmt: skip
    assert not (pg_stack.storage_dir / "outputs" / str(video_id)).exists()


def test_delete_cancels_a_running_job(api: Api, pg_stack: Stack, media: Path) -> None:
    from tests.media import make_clip

    clip = make_clip(media / "slow-20s.mp4", seconds=20, width=1280, height=720, audio=False)
    owner = api.user()
    outcomes = "reelforge_worker_outcomes_total"
    before = pg_stack.worker_metric(outcomes, outcome="cancelled")
    video_id = api.upload(owner, clip).json()["video_id"]
    api.wait_for(owner, video_id, statuses=("processing",), timeout=60)
    assert api.http.delete(f"/api/videos/{video_id}", headers=owner).status_code == 200
    wait_until(lambda: pg_stack.worker_metric(outcomes, outcome="cancelled") > before, 15,
               "the worker to stop the deleted job")  # fmt: skip
    assert not (pg_stack.storage_dir / "outputs" / str(video_id)).exists()
    assert list(pg_stack.temp_dir("worker").glob(f"reelforge-job-*-{video_id}-*")) == []
