"""Webhook rules that need no server: which targets are refused (SSRF), the retry schedule and
when it gives up, and the API's create/list/delete with the secret shown once."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from core.models import utcnow
from core.settings import Settings
from core.webhooks.sender import Claimed, next_attempt
from core.webhooks.targets import TargetRefused, resolve
from tests.factories import signed_up

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "private or reserved address (127.0.0.1)"),
        ("https://localhost/hook", "private or reserved address"),
        ("https://10.1.2.3/hook", "(10.1.2.3)"),
        ("https://192.168.0.10:8443/hook", "(192.168.0.10)"),
        ("https://169.254.169.254/latest/meta-data/", "(169.254.169.254)"),
        ("https://[::1]/hook", "(::1)"),
        ("https://[::ffff:127.0.0.1]/hook", "private or reserved"),
        ("https://0.0.0.0/hook", "(0.0.0.0)"),
        ("https://224.0.0.1/hook", "(224.0.0.1)"),
        ("http://93.184.215.14/hook", "must start with https://"),
        ("ftp://93.184.215.14/hook", "must start with https://"),
        ("https://user:pw@93.184.215.14/hook", "must not carry credentials"),
        ("https:///hook", "has no host"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_targets_that_are_refused(url: str, reason: str, settings: Settings) -> None:
    with pytest.raises(TargetRefused) as refused:
        resolve(url, settings)
    assert reason in str(refused.value)


def test_a_public_address_is_allowed_and_the_settings_open_private_ones(settings: Settings) -> None:
    assert resolve("https://93.184.215.14:8443/x", settings).address == "93.184.215.14"
    local = settings.model_copy(update={"webhook_allow_private_networks": True,
                                        "webhook_allow_http": True})  # fmt: skip
    target = resolve("http://127.0.0.1:9/hook", local)
    assert (target.address, target.port, target.scheme) == ("127.0.0.1", 9, "http")


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x",
            "http://[::ffff:169.254.169.254]/latest/meta-data"],
)  # fmt: skip
def test_link_local_stays_refused_when_private_networks_are_allowed(
    url: str, settings: Settings
) -> None:
    local = settings.model_copy(update={"webhook_allow_private_networks": True,
                                        "webhook_allow_http": True})  # fmt: skip
    with pytest.raises(TargetRefused, match="link-local address"):
        resolve(url, local)


def _claimed(attempts: int, age: float = 0) -> Claimed:
    return Claimed("msg_x", "{}", attempts, utcnow() - timedelta(seconds=age), "u", "s", True)


def test_retries_follow_the_schedule_with_jitter_then_stop(settings: Settings) -> None:
    now = utcnow()
    for attempt, delay in enumerate(settings.webhook_retry_schedule_seconds, start=1):
        when = next_attempt(_claimed(attempt), settings, now)
        assert when is not None
        assert 0.8 * delay <= (when - now).total_seconds() <= 1.2 * delay
    assert (
        next_attempt(_claimed(len(settings.webhook_retry_schedule_seconds) + 1), settings, now)
        is None
    )
    # nothing is tried later than 24 h after the event
    assert next_attempt(_claimed(6, age=23.5 * 3600), settings, now) is None
    total = sum(settings.webhook_retry_schedule_seconds)
    assert 17 * 3600 < total < settings.webhook_give_up_seconds  # the documented schedule


@pytest.mark.anyio
async def test_the_api_refuses_a_private_target_and_shows_the_secret_once(
    client: httpx.AsyncClient,
) -> None:
    auth = await signed_up(client)
    refused = await client.post("/api/webhooks", headers=auth,
                                json={"url": "https://169.254.169.254/x"})  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Webhook URL refused: ")
    created = await client.post("/api/webhooks", headers=auth,
                                json={"url": "https://93.184.215.14/hook",
                                      "events": ["video.failed"]})  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["video.failed"]
    listed = (await client.get("/api/webhooks", headers=auth)).json()
    assert [h["id"] for h in listed] == [body["id"]] and "secret" not in listed[0]
    log = await client.get(f"/api/webhooks/{body['id']}/deliveries", headers=auth)
    assert log.status_code == 200 and log.json() == []
    gone = await client.delete(f"/api/webhooks/{body['id']}", headers=auth)
    assert gone.status_code == 200 and gone.json() == {
        "message": "Webhook deleted",
        "id": body["id"],
    }
    assert (
        await client.get(f"/api/webhooks/{body['id']}/deliveries", headers=auth)
    ).status_code == 404
    bad = await client.post("/api/webhooks", headers=auth,
                            json={"url": "https://93.184.215.14/h", "events": ["video.deleted"]})  # fmt: skip
    assert bad.status_code == 422
