"""create_app(): lifespan (per-process collaborators), middleware, routers. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.auth.router import router as auth_router
from app.collaborators import Collaborators
from app.errors import install_error_handlers
from app.health import router as health_router
from app.hygiene import HygieneMiddleware, install_method_not_allowed
from app.metrics import MetricsMiddleware
from app.metrics import router as metrics_router
from app.openapi import everywhere
from app.openapi_truth import install_truthful_openapi
from app.playback.router import router as playback_router
from app.profiles.router import router as profiles_router
from app.public.router import router as public_router
from app.ratelimit import enforce_rate_limit, install_rate_limits
from app.request_id import RequestIdMiddleware
from app.uploads.direct import router as direct_uploads_router
from app.uploads.middleware import TusResumableMiddleware
from app.uploads.protocol import EXPOSED_HEADERS, REQUEST_HEADERS
from app.uploads.router import router as uploads_router
from app.videos.router import router as videos_router
from app.web.mount import install_web
from app.webhooks.router import router as webhooks_router
from core.db import Database
from core.logging_setup import configure_logging
from core.profiles import load_profiles
from core.settings import Settings, get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs in each worker process after gunicorn forks: engines and clients are never shared."""
    settings: Settings = app.state.settings
    collaborators = Collaborators.build(settings, Database.from_settings(settings))
    app.state.collaborators = collaborators
    collaborators.live_hub.start()
    try:
        yield
    finally:
        await collaborators.live_hub.stop()
        await collaborators.database.dispose()


class InsecureConfiguration(RuntimeError):
    """The API refuses to start: it would sign tokens anyone can forge."""


def create_app(settings: Settings | None = None) -> FastAPI:
    configure_logging()
    settings = settings or get_settings()
    if problem := settings.jwt_secret_problem():
        raise InsecureConfiguration(problem)
    load_profiles(settings.profiles_file)  # a bad profiles file stops the API here, saying why
    app = FastAPI(
        title="reelforge",
        version="0.1.0",
        description="Upload a video, get 202 at once; Celery workers trim, letterbox and brand it.",
        lifespan=lifespan,
        dependencies=[Depends(enforce_rate_limit)],
        redirect_slashes=False,
        responses=everywhere(),  # HygieneMiddleware serves "/x/" as "/x" instead
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Added last = outermost: request id first, then metrics, then hygiene.
    app.add_middleware(TusResumableMiddleware)
    app.add_middleware(HygieneMiddleware)
    if settings.cors_allow_origins:  # browser clients (tus-js-client, Uppy) read tus headers
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_allow_origins, allow_credentials=False,
            allow_methods=["GET", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=REQUEST_HEADERS, expose_headers=EXPOSED_HEADERS, max_age=86400,
        )  # fmt: skip
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    routers = [health_router, metrics_router, auth_router, videos_router, public_router,
               uploads_router, direct_uploads_router, webhooks_router, profiles_router,
               playback_router]  # fmt: skip
    for router in routers:
        app.include_router(router)
    install_rate_limits(app, app.state.settings, routers)
    install_web(app, settings)
    install_truthful_openapi(app)
    install_method_not_allowed(app, routers)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` (uvicorn, gunicorn) builds the app on first use, from the environment —
    importing this module never does, so tests and tools can call create_app(settings)."""
    if name != "app":
        raise AttributeError(name)
    app = create_app()
    globals()["app"] = app
    return app
