"""RQ wiring of the outbox (`ivr.outbox`): the delivery job, the nudge after a commit, and the
sweep that finds every message due (first tries whose job was lost, retries after backoff).

Job ids are ``outbox-<center>-<id>-<attempts>``: a message is enqueued at most once per
attempt count, however many processes sweep, and a job lost with Redis or with a killed
worker is replaced by the next sweep once its lease is over (the claim moved the attempt count
on, or it never ran).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Engine

from ivr.platform import outbox
from ivr.platform.config import Settings, load_settings
from ivr.platform.db import make_engine
from ivr.platform.jobs import queue as rq_queue
from ivr.platform.jobs import rq_connection
from ivr.platform.redisconn import resolve_url
from ivr.transfers.centers import transfer_config

log = logging.getLogger("ivr.outbox")

ALIVE = ("queued", "started", "scheduled", "deferred")

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _engine(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def deliver(message_id: int) -> str:
    """The RQ job: one delivery attempt of a message, with this process's settings."""
    settings = load_settings()
    config = transfer_config(settings)
    return outbox.attempt(_engine(settings.database_url), message_id,
                          lease=config.handoff_lease_seconds, steps=config.handoff_backoff)


def queue_name(settings: Settings) -> str:
    return transfer_config(settings).handoff_queue


def _enqueue(q: Queue, conn: redis.Redis, center: str, message_id: int, attempts: int) -> bool:
    job_id = f"outbox-{center}-{message_id}-{attempts}"
    try:
        if Job.fetch(job_id, connection=conn).get_status(refresh=False) in ALIVE:
            return False
    except NoSuchJobError:
        pass
    q.enqueue(deliver, message_id, job_id=job_id, result_ttl=600, failure_ttl=3600,
              job_timeout=int(outbox.TIMEOUT * 3))
    return True


_rq: dict[str, redis.Redis] = {}


def _connection(settings: Settings) -> redis.Redis:
    """One RQ connection (pool) per Redis URL and process, not one per hand-off."""
    url = resolve_url(settings.redis_url, settings.data_dir)
    with _lock:
        if url not in _rq:
            _rq[url] = rq_connection(settings)
        return _rq[url]


def kick(settings: Settings, message_id: int, conn: redis.Redis | None = None) -> None:
    """Deliver now (after the commit that wrote the message). A Redis failure here loses
    nothing: the sweep finds the message."""
    try:
        c = conn or _connection(settings)
        _enqueue(rq_queue(settings, queue_name(settings), c), c, settings.center, message_id, 0)
    except redis.RedisError as exc:
        log.warning("outbox %s: not enqueued now (%s); the sweep will", message_id, exc)


def sweep(settings: Settings, engine: Engine, now: datetime,
          conn: redis.Redis | None = None) -> list[int]:
    """Enqueue every message due at `now`; returns the ids of those given a job now."""
    with engine.connect() as db:
        ids = outbox.due(db, now)
        if not ids:
            return []
        attempts = {i: m.attempts for i in ids if (m := outbox.get(db, i)) is not None}
    c = conn or _connection(settings)
    q = rq_queue(settings, queue_name(settings), c)
    return [i for i, n in attempts.items() if _enqueue(q, c, settings.center, i, n)]
