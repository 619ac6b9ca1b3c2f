"""Helpers shared by the queue tests (imported by name: conftest modules are not importable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable

import redis
from hypothesis import HealthCheck, settings

from queues import Queues
from queues.keys import Keys

settings.register_profile(
    "queues",
    max_examples=35,
    stateful_step_count=35,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "queues-thorough",
    max_examples=1000,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MakeQueues = Callable[..., Queues]


def hypothesis_settings() -> settings:
    """The queue tests' profile (QUEUES_HYPOTHESIS_PROFILE=queues-thorough for a long run);
    applied per test so that other packages' Hypothesis settings are left alone."""
    return settings.get_profile(os.environ.get("QUEUES_HYPOTHESIS_PROFILE", "queues"))


def purge(client: redis.Redis, keys: Keys, classes: Iterable[str]) -> None:
    """Delete every key of a center: the fixed ones, its buckets and its handle-time lists."""
    names = [*keys.fixed(), *(k for c in classes for k in keys.per_class(c))]
    names += [k.decode() if isinstance(k, bytes) else k for k in client.hkeys(keys.index)]
    client.delete(*names)


def new_center() -> str:
    """A center of its own: its keys cannot meet another test's or another run's."""
    return "t" + uuid.uuid4().hex[:12]
