"""RQ wiring: the queues background work goes through, on the same Redis as everything else
(`ivr worker` serves them: `ivr.worker`).

RQ stores pickled payloads, so it needs its own connection without decoded responses. It runs
on a single server or behind Sentinels (``IVR_REDIS_URL``, or ``IVR_RQ_REDIS_URL`` when set),
never on a Redis Cluster: RQ's worker needs one server's connection pool and its keys carry no
hash tag (`ivr.platform.config` refuses a cluster for RQ).
"""

from __future__ import annotations

import redis
from rq import Queue

from ivr.platform.config import Settings
from ivr.platform.redisconn import client, resolve_url

QUEUE_NAMES = ("ivr-high", "ivr-default")


def rq_url(settings: Settings) -> str:
    return settings.rq_redis_url or resolve_url(settings.redis_url, settings.data_dir)


def rq_connection(settings: Settings) -> redis.Redis:
    return client(rq_url(settings))  # type: ignore[no-any-return]


def queue(settings: Settings, name: str = "ivr-default",
          connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or rq_connection(settings))


