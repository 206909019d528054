"""What one API process works with — database, storage, job publisher, admission, upload
slots, caches — built once per process by the app's lifespan (after gunicorn forks: engines and
clients are never shared), and held in one object.

One object, because FastAPI resolves each dependency of a route on every request, and that
costs CPU per request (docs/performance.md). A route or dependency that needs several of them
asks for `CollaboratorsDep`; one that needs one keeps its one-line alias in app/deps.py, which
reads this object. Tests put their own in `app.state.collaborators`, where the lifespan would
(tests/fast/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.known_users import KnownUsers
from app.auth.throttle import LoginThrottle
from app.videos.admission import Admission
from app.videos.live import LiveHub
from app.videos.slots import UploadSlots
from app.videos.standing import Forecaster
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.settings import Settings
from core.storage import Storage, make_storage


@dataclass(frozen=True)
class Collaborators:
    settings: Settings
    database: Database
    storage: Storage
    publisher: JobPublisher
    admission: Admission
    upload_slots: UploadSlots
    login_throttle: LoginThrottle
    known_users: KnownUsers
    forecaster: Forecaster
    live_hub: LiveHub

    @classmethod
    def build(
        cls,
        settings: Settings,
        database: Database,
        storage: Storage | None = None,
        publisher: JobPublisher | None = None,
    ) -> Collaborators:
        """Nothing is started or connected here: the lifespan starts the live hub, and
        engines and clients connect on first use."""
        storage = storage if storage is not None else make_storage(settings)
        disk = settings.resolved_storage_dir if settings.storage_backend == "local" else None
        forecaster = Forecaster(settings)
        return cls(
            settings=settings,
            database=database,
            storage=storage,
            publisher=publisher or JobPublisher(settings, name="reelforge-api"),
            admission=Admission(settings, database.engine, disk),
            upload_slots=UploadSlots.from_settings(settings),
            login_throttle=LoginThrottle(settings),
            known_users=KnownUsers(settings),
            forecaster=forecaster,
            live_hub=LiveHub(settings, database, forecaster),
        )
