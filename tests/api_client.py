"""A small synchronous client for the service's HTTP API, as a user's script would use it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import httpx

PASSWORD = "correct-horse-9"


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def signup(
        self, *, city: str | None = "Bogota", first_name: str = "Test", **extra: str
    ) -> dict:  # type: ignore[type-arg]
        body = {
            "first_name": first_name,
            "last_name": "User",
            "email": f"user-{uuid.uuid4().hex[:10]}@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "city": city,
            "country": "Colombia",
            **extra,
        }
        response = self.http.post("/api/auth/signup", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def token(self, email: str, password: str = PASSWORD) -> str:
        response = self.http.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]  # type: ignore[no-any-return]

    def user(self, **kwargs: str) -> dict[str, str]:
        """A new user's auth header."""
        token = self.token(self.signup(**kwargs)["email"])
        return {"Authorization": f"Bearer {token}"}

    def upload(
        self, auth: dict[str, str], path: Path, title: str = "A clip", **kwargs: object
    ) -> httpx.Response:
        headers = {**auth, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        with path.open("rb") as f:
            return self.http.post(
                "/api/videos/upload",
                headers=headers,
                data={"title": title},
                files={"video_file": (path.name, f, "video/mp4")},
                **kwargs,  # type: ignore[arg-type]
            )

    def processed_with(self, auth: dict[str, str], path: Path, profile: str | None) -> dict:  # type: ignore[type-arg]
        """Upload with an output profile (None: the default) and wait: the processed detail."""
        data = {"title": "profiled"} | ({"profile": profile} if profile else {})
        with path.open("rb") as f:
            response = self.http.post("/api/videos/upload", headers=auth, data=data,
                                      files={"video_file": (path.name, f, "video/mp4")})  # fmt: skip
        assert response.status_code == 202, response.text
        video = self.wait_for(auth, response.json()["video_id"])
        assert video["status"] == "processed", video
        return video

    def upload_raw(
        self, auth: dict[str, str], content: bytes | Iterable[bytes], boundary: str = "rfboundary"
    ) -> httpx.Response:
        headers = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.http.post("/api/videos/upload", headers=headers, content=content)

    def video(self, auth: dict[str, str], video_id: int) -> dict:  # type: ignore[type-arg]
        response = self.http.get(f"/api/videos/{video_id}", headers=auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_for(
        self,
        auth: dict[str, str],
        video_id: int,
        statuses: tuple[str, ...] = ("processed", "failed"),
        timeout: float = 120,
    ) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            video = self.video(auth, video_id)
            seen.append((video["status"], video["progress"]))
            if video["status"] in statuses:
                video["_seen"] = seen
                return video
            time.sleep(0.2)
        raise AssertionError(f"video {video_id} never reached {statuses}; last states {seen[-5:]}")

    def processed_video(self, auth: dict[str, str], path: Path, title: str = "A clip") -> int:
        response = self.upload(auth, path, title)
        assert response.status_code == 202, response.text
        video_id = response.json()["video_id"]
        video = self.wait_for(auth, video_id)
        assert video["status"] == "processed", video
        return int(video_id)


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = "rfboundary") -> bytes:
    """Build a multipart body by hand: (field name, payload, filename or None)."""
    out = b""
    for name, payload, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: video/mp4\r\n"
        out += b"\r\n" + payload + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()
