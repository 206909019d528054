"""The mechanism behind a worker killed by a Redis restart (core/jobs/broker_guard.py), replayed
with kombu alone against a real Redis: two channels hold unacknowledged messages, Redis dies, the
connection is collected. The channel that `collect()` left open must close with a connection
error (which Celery's clean-up ignores), not the AttributeError that ended the worker."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message

from core.jobs import broker_guard
from devstack.servers import Redis


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    server = Redis().start()
    yield server
    server.stop()


def test_a_channel_left_open_by_collect_closes_with_a_connection_error(
    redis_server: Redis,
) -> None:
    broker_guard.install()
    options = {"max_retries": 1, "socket_timeout": 1, "socket_connect_timeout": 1}
    conn = Connection(redis_server.url, transport_options=options)
    queues = [Queue(f"q{i}", routing_key=f"q{i}") for i in range(2)]
    with conn.Producer() as producer:
        for queue in queues:
            producer.publish({"n": 1}, routing_key=queue.routing_key, declare=[queue])
    received: list[Message] = []
    channels = [conn.channel() for _ in queues]
    for channel, queue in zip(channels, queues, strict=True):
        consumer = conn.Consumer(queue, channel=channel, accept=["json"],
                                 callbacks=[lambda _body, message: received.append(message)])  # fmt: skip
        consumer.consume()
    for _ in range(4):
        with contextlib.suppress(Exception):
            conn.drain_events(timeout=1)
    assert len(received) == 2, "both channels must hold an unacknowledged message"
    errors = conn.connection_errors + conn.channel_errors
    redis_server.stop()
    with contextlib.suppress(*errors):
        conn.collect(socket_timeout=1)
    left_open = [channel for channel in channels if not channel.closed]
    assert left_open, "collect() closed every channel: the scenario did not happen"
    for channel in left_open:
        with pytest.raises(errors):
            channel.close()
