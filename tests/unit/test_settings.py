from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_hard_limit_must_exceed_soft_limit_and_visibility_outlives_it() -> None:
    with pytest.raises(ValidationError):
        Settings(task_soft_time_limit=100, task_time_limit=100)
    settings = Settings(task_soft_time_limit=100, task_time_limit=120)
    assert settings.visibility_timeout > settings.task_time_limit


def test_ffmpeg_threads_follow_cores_per_worker_process() -> None:
    assert Settings(ffmpeg_threads=3).resolved_ffmpeg_threads == 3
    assert Settings(worker_concurrency=1000).resolved_ffmpeg_threads == 1


def test_env_example_documents_every_setting() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]
    assert missing == []


def test_nginx_retry_after_defaults_match_their_zones_rates() -> None:
    """defaults.env serves compose as is: each zone's Retry-After must be 1 / its rate."""
    from devstack.nginx import NGINX_DEFAULTS, ZONES, retry_after

    values = dict(
        line.split("=", 1)
        for line in NGINX_DEFAULTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    for zone in ZONES:
        assert int(values[f"RF_RETRY_AFTER_{zone}"]) == retry_after(values[f"RF_RATE_{zone}"]), zone
