"""The browser rules the web client is served with: one Content-Security-Policy (no inline
script or style anywhere) for the API (`make run`) and for nginx (`make stack`, compose)."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.settings import Settings


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_origins(settings: Settings) -> list[str]:
    """Where presigned media URLs point: the S3 host browsers reach (none for local storage)."""
    if settings.storage_backend != "s3":
        return []
    endpoint = settings.s3_public_endpoint_url or settings.s3_endpoint_url
    if endpoint:
        return [origin_of(endpoint)]
    region = settings.s3_region
    return [
        f"https://{settings.s3_bucket}.s3.{region}.amazonaws.com",
        f"https://s3.{region}.amazonaws.com",
    ]


def content_security_policy(media_origins: list[str]) -> str:
    """The policy, given the origins media may come from besides this one (presigned S3)."""
    media = " ".join(["'self'", "blob:", *media_origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media} data:",
            f"media-src {media}",
            f"connect-src {media}",
            "worker-src 'self' blob:",  # hls.js may run its demuxer in a blob: worker
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(storage_origins(settings)),
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",  # revalidated by ETag: a new release is seen at once
    }
