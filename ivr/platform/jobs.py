"""RQ wiring: the queues background work goes through, on the same Redis as everything else.

RQ stores pickled payloads, so it needs its own connection without decoded responses.
"""

from __future__ import annotations

import redis
from rq import Queue, Worker

from ivr.platform.config import Settings
from ivr.platform.redisconn import resolve_url

QUEUE_NAMES = ("ivr-high", "ivr-default")


def rq_connection(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(resolve_url(settings.redis_url, settings.data_dir))


def queue(settings: Settings, name: str = "ivr-default",
          connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or rq_connection(settings))


def run_worker(settings: Settings, burst: bool = False) -> None:
    """An RQ worker and, unless it is a burst run, the floor's one-second ticker beside it."""
    conn = rq_connection(settings)
    worker = Worker([Queue(n, connection=conn) for n in QUEUE_NAMES], connection=conn)
    stop = None
    if not burst:
        from ivr import worker as ticker

        _thread, stop = ticker.start(settings)
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        if stop is not None:
            stop.set()
