"""Every knob of the service, read once from the environment (or `.env`)."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - used only when ENVIRONMENT=dev
WEAK_SECRETS = {DEV_SECRET, "changeme", "change-me", "secret", "jwt-secret", "changethis"}
DEV_SECRET_FILE = "dev-jwt-secret"


def dev_secret(var_dir: Path) -> str:
    """ENVIRONMENT=dev without JWT_SECRET: a random secret made once per checkout and kept in
    `var/` (every process of `make run` reads the same one; long enough for HS256, so PyJWT has
    nothing to warn about). A folder that cannot be written falls back to DEV_SECRET's digest."""
    path = var_dir / DEV_SECRET_FILE
    for _ in range(50):
        try:
            kept = path.read_text().strip()
        except FileNotFoundError:
            kept = ""
        except OSError:
            break
        if kept:
            return kept
        try:
            var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process is writing it: read it in a moment
            time.sleep(0.01)
            continue
        except OSError:
            break
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return hashlib.sha256(DEV_SECRET.encode()).hexdigest()


MIN_SECRET_CHARS = 32
MIN_SECRET_DISTINCT_CHARS = 10


class Settings(BaseSettings):
    # An empty variable means "the default": the compose files pass `${X:-}` for optional knobs.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # Production unless told otherwise: only an explicit dev mode (`make run` sets it) may run
    # without a real JWT_SECRET.
    environment: Literal["dev", "test", "prod"] = "prod"
    var_dir: Path = Path("var")

    # Persistence and queue. The embedded default needs no server at all.
    database_url: str = "sqlite+aiosqlite:///var/reelforge.db"
    celery_broker_url: str = "filesystem://"
    broker_dir: Path | None = None  # filesystem broker folder; defaults to var/broker
    celery_queue: str = "videos"
    # Redis pub/sub channel of job progress/status notices (live streams); embedded: polled
    job_events_channel: str = "reelforge:job-events"
    job_events_poll_seconds: float = 1.0  # embedded default: how often the API reads watched rows
    sse_heartbeat_seconds: float = 15.0
    broker_timeout_seconds: float = 2.0
    broker_visibility_timeout: int = 0  # 0 = 2 × TASK_TIME_LIMIT + 60 s
    broker_restore_interval_seconds: int = 100  # how often workers sweep for expired unacked
    db_timeout_seconds: float = 2.0
    db_pool_size: int = 10  # per API process
    db_max_overflow: int = 10
    # How long a request waits for a free pooled connection before its 503. The short DB phases
    # queue behind each other under load: at 300 uploading users 5 s gave 1 % 503s on tus PATCH
    # (after the body had streamed, the worst moment to refuse); a dead database fails at once.
    db_pool_timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    # Storage
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None  # defaults to var/storage
    s3_bucket: str = "reelforge"
    s3_endpoint_url: str | None = None  # None = AWS; e.g. http://minio:9000
    s3_public_endpoint_url: str | None = None  # host clients use for presigned URLs
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_presign_seconds: int = 3600

    # Auth
    jwt_secret: str = ""  # required outside dev: ≥ 32 random characters (see jwt_secret_problem)
    jwt_algorithm: str = "HS256"
    jwt_expires_seconds: int = 3600
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)

    # Interactive docs (/docs, /redoc) and /openapi.json
    api_docs_enabled: bool = True

    # App rate limits (slowapi syntax: "N/second|minute|hour", several joined by ";")
    rate_limit_enabled: bool = True
    rate_limit_storage_uri: str | None = None  # default: the Redis broker, else memory://
    rate_limit_default: str = "300/minute"
    rate_limit_upload: str = "30/minute"
    rate_limit_auth: str = "20/minute"  # per client IP (never per token)
    # tus PATCH/HEAD/POST per user: a resuming client sends a request per chunk (5 MiB chunks of
    # a 100 MiB file are 20), so this is far above the one-shot upload limit.
    rate_limit_tus: str = "600/minute"
    # A token's user is re-read from the database at most this often per API process
    # (app/auth/known_users.py); 0 reads it on every request. Rows are never changed by the API;
    # 60 s, because with several processes a user's requests reach each one only every few s.
    auth_user_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    login_failures_per_account: str = "10/15 minutes"  # then 429 for that email, any IP

    # Upload limits
    max_upload_bytes: int = 100 * 1024 * 1024
    # A body must keep an average of at least this many bytes/s once the grace period is over
    # (a drip is cut, not only a stall), and finish within the deadline. 0 disables a check.
    upload_min_bytes_per_second: int = 16 * 1024
    upload_rate_grace_seconds: float = 20.0
    upload_deadline_seconds: float = 1800.0
    # Concurrent uploads per API process: in all, and per user. In S3 mode each open upload
    # buffers one S3 part in memory, so the process total is also capped by this budget.
    uploads_max_per_process: int = 64
    uploads_max_per_user: int = 4
    s3_upload_memory_budget_bytes: int = 256 * 1024 * 1024
    max_title_chars: int = 255
    # Resumable (tus) uploads: an incomplete upload expires (its bytes and row are swept); each
    # user may hold this many open uploads and reserve this many bytes in them (0 = no cap).
    upload_expires_seconds: int = 24 * 3600
    uploads_open_max_per_user: int = 10
    uploads_reserved_bytes_per_user: int = 2 * 1024**3
    # A PATCH holds its upload for this long, renewed while bytes flow; a crashed process's
    # lock lapses after it (another PATCH meanwhile gets 423).
    upload_lock_seconds: float = 30.0
    # Direct-to-S3 uploads: how long one part's presigned PUT URL is valid.
    direct_part_url_seconds: int = 900
    # Browser origins allowed to call the API (CORS; tus headers exposed). Empty: no CORS.
    cors_allow_origins: list[str] = []

    # Signed webhooks (core/webhooks). Targets must be https and public unless allowed here.
    webhook_allow_http: bool = False
    webhook_allow_private_networks: bool = False
    # Delays between attempts (seconds, jittered ±20 %); no attempt later than GIVE_UP after the
    # event. An endpoint is disabled after this many failed attempts in a row, or 24 h failing.
    webhook_retry_schedule_seconds: list[float] = [5, 300, 1800, 7200, 18000, 36000]
    webhook_give_up_seconds: float = 24 * 3600
    webhook_disable_after_failures: int = 50
    webhook_timeout_seconds: float = 10.0
    webhook_resend_after_seconds: float = 60.0  # a delivery not started by then is sent again
    webhook_queue: str = "webhooks"
    # "webhooks": this process only delivers webhooks (no reconciler, no metrics port of its own)
    worker_role: Literal["videos", "webhooks"] = "videos"
    webhooks_max_per_user: int = 10
    # Absolute URLs in webhook payloads (e.g. https://videos.example.com); unset: paths only
    public_base_url: str | None = None

    # Input acceptance (ffprobe)
    max_input_seconds: float = 600.0
    max_input_dimension: int = 4096
    max_input_pixels: int = 4096 * 2304  # width × height (a 4K UHD frame fits)
    max_input_streams: int = 16
    max_input_frames: int = 600 * 120  # 10 minutes at 120 fps
    # Resource limits on each FFmpeg child (0 = no limit)
    ffmpeg_max_memory_bytes: int = 4 * 1024**3
    ffmpeg_max_open_files: int = 256

    # Admission control (backpressure) on upload; 0 disables a check
    backlog_max_queued: int = 1000
    backlog_max_oldest_seconds: float = 900.0
    min_free_disk_bytes: int = 1024**3  # local storage and the API's temp dir
    admission_cache_seconds: float = 1.0
    # Per-user quotas (0 = none): jobs waiting, and bytes of originals kept in storage
    max_queued_jobs_per_user: int = 20
    max_stored_bytes_per_user: int = 5 * 1024**3
    # Originals of processed videos are deleted after this many seconds (0 = kept forever)
    original_retention_seconds: int = 0

    # Output profiles (core/profiles.py): the file of named profiles (None: the shipped
    # core/profiles.yaml); the reel's frame, trim and bumper are the settings below.
    profiles_file: Path | None = None
    # How long a signed playback link (HLS playlists and segments) stays valid
    playback_link_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    output_max_seconds: float = 30.0
    output_width: int = 1280
    output_height: int = 720
    output_max_fps: int = 30
    output_preset: str = "veryfast"
    output_crf: int = 23
    bumper_seconds: float = 2.0
    bumper_text: str = "reelforge"
    bumper_color: str = "0x101820"
    bumper_logo_path: Path | None = None  # an image drawn on the generated card
    bumper_clip_path: Path | None = None  # a ready-made clip used instead of the card
    thumbnail_at_seconds: float = 1.0

    # Scheduling (core/jobs/scheduling.py): "fair" = fewest running per user first, short lane
    # first, no starvation; "fifo" = each message runs its own job, in arrival order.
    scheduler: Literal["fair", "fifo"] = "fair"
    max_active_jobs_per_user: int = 4  # jobs processing at once per user (0 = no cap)
    short_lane_max_bytes: int = 16 * 1024 * 1024  # uploads up to this size go to the short lane
    lane_promote_seconds: float = 300.0  # a job waiting this long jumps to the first lane
    capped_retry_seconds: float = 2.0  # a message whose owner is at the cap tries again after

    # Worker
    # One process per core with one FFmpeg thread each gives the most jobs/min; fewer processes
    # with more threads each finish a single job sooner (docs/deploy.md, docs/performance.md).
    worker_concurrency: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    ffmpeg_threads: int = 0  # 0 = cores // concurrency
    task_soft_time_limit: int = 600
    task_time_limit: int = 660
    max_attempts: int = 3
    lease_seconds: int = 30
    ffmpeg_stall_seconds: float = 60.0
    reconcile_interval_seconds: float = 5.0  # index probes only: cheap when nothing is due
    resend_after_seconds: float = 60.0  # a queued job unclaimed this long is sent again
    # Retries are backed off per job (core/jobs/retries.py): the n-th retry waits the n-th
    # delay (the last one repeats), ± RETRY_JITTER of it. MAX_ATTEMPTS bounds the failures the
    # job's own input causes; interruptions the service causes (storage, database, broker
    # unreachable) retry until RETRY_DEADLINE_SECONDS after the first; a job whose worker died
    # under it MAX_WORKER_LOSSES times fails (it may be what kills it).
    retry_schedule_seconds: Annotated[tuple[float, ...], NoDecode] = (5.0, 30.0, 120.0, 600.0)
    retry_jitter: float = 0.2
    retry_deadline_seconds: float = 6 * 3600.0
    max_worker_losses: int = 5
    progress_interval_seconds: float = 1.0
    temp_dir: Path | None = None
    worker_metrics_port: int = 9808
    ffmpeg_binary: str = "ffmpeg"
    ffprobe_binary: str = "ffprobe"

    @field_validator("retry_schedule_seconds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """RETRY_SCHEDULE_SECONDS=5,30,120,600"""
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "dev" and not self.jwt_secret:
            self.jwt_secret = dev_secret(self.var_dir)
        if self.task_time_limit <= self.task_soft_time_limit:
            raise ValueError("TASK_TIME_LIMIT must be greater than TASK_SOFT_TIME_LIMIT")
        if not self.retry_schedule_seconds or min(self.retry_schedule_seconds) < 0:
            raise ValueError("RETRY_SCHEDULE_SECONDS must list one or more delays ≥ 0")
        return self

    def jwt_secret_problem(self) -> str | None:
        """Why JWT_SECRET cannot sign tokens here, or None. Outside dev the secret must be at
        least 32 characters of random-looking text (e.g. `python -c "import secrets;
        print(secrets.token_urlsafe(32))"`); the API refuses to start otherwise."""
        if self.environment == "dev":
            return None
        secret = self.jwt_secret
        hint = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        if not secret:
            return f"JWT_SECRET is not set (ENVIRONMENT={self.environment}); {hint}"
        if secret.lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_CHARS:
            return (
                f"JWT_SECRET is a placeholder or shorter than {MIN_SECRET_CHARS} characters; {hint}"
            )
        if len(set(secret)) < MIN_SECRET_DISTINCT_CHARS or _repeats(secret):
            return f"JWT_SECRET does not look random; {hint}"
        return None

    @property
    def resolved_storage_dir(self) -> Path:
        return (self.storage_dir or self.var_dir / "storage").resolve()

    @property
    def resolved_broker_dir(self) -> Path:
        return (self.broker_dir or self.var_dir / "broker").resolve()

    @property
    def resolved_ffmpeg_threads(self) -> int:
        if self.ffmpeg_threads > 0:
            return self.ffmpeg_threads
        return max(1, (os.cpu_count() or 1) // max(1, self.worker_concurrency))

    @property
    def visibility_timeout(self) -> int:
        """Redis redelivers unacked messages after this; it must outlive the hard limit."""
        return self.broker_visibility_timeout or self.task_time_limit * 2 + 60


def _repeats(text: str) -> bool:
    """True for a short pattern repeated ("abcd" * 8)."""
    n = len(text)
    return any(n % k == 0 and text == text[:k] * (n // k) for k in range(1, n // 2 + 1))


@lru_cache
def get_settings() -> Settings:
    return Settings()
