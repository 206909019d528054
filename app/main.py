"""create_app(): lifespan, middleware, routers. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from slowapi.errors import RateLimitExceeded

from app.auth.router import router as auth_router
from app.db import Database
from app.errors import install_error_handlers
from app.health import router as health_router
from app.logging_setup import configure_logging
from app.metrics import MetricsMiddleware
from app.public.router import router as public_router
from app.ratelimit import enforce_rate_limit, limiter, rate_limit_exceeded
from app.request_id import RequestIdMiddleware
from app.settings import get_settings
from app.storage import make_storage
from app.videos.admission import Admission
from app.videos.router import router as videos_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    app.state.database = Database(settings)
    app.state.storage = make_storage(settings)
    disk = settings.resolved_storage_dir if settings.storage_backend == "local" else None
    app.state.admission = Admission(settings, app.state.database.engine, disk)
    try:
        yield
    finally:
        await app.state.database.dispose()


def create_app() -> FastAPI:
    configure_logging()
    app = FastAPI(
        title="reelforge",
        version="0.1.0",
        description="Upload a video, get 202 at once; Celery workers trim, letterbox and brand it.",
        lifespan=lifespan,
        dependencies=[Depends(enforce_rate_limit)],
    )
    install_error_handlers(app)
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded)
    # Added last = outermost: request id first, then metrics.
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for router in (health_router, auth_router, videos_router, public_router):
        app.include_router(router)
    return app


app = create_app()
