"""RQ wiring: the queues background work goes through, on the same Redis as everything else
(`ivr worker` serves them: `ivr.worker`).

RQ stores pickled payloads, so it needs its own connection without decoded responses.
"""

from __future__ import annotations

import redis
from rq import Queue

from ivr.platform.config import Settings
from ivr.platform.redisconn import resolve_url

QUEUE_NAMES = ("ivr-high", "ivr-default")


def rq_connection(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(resolve_url(settings.redis_url, settings.data_dir))


def queue(settings: Settings, name: str = "ivr-default",
          connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or rq_connection(settings))


