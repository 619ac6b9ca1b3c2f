"""RQ wiring of the outbox (`ivr.platform.outbox`): the delivery job, the nudge after a commit, and
the sweep that finds every message due (first tries whose job was lost, retries after backoff).

Job ids are ``outbox-<center>-<id>-<attempts>``: a message is enqueued at most once per
attempt count, however many processes sweep, and a job lost with Redis or with a killed
worker is replaced by the next sweep once its lease is over (the claim moved the attempt count
on, or it never ran).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Engine

from ivr.platform import outbox
from ivr.platform.config import ConfigError, Settings, load_settings
from ivr.platform.db import make_engine
from ivr.platform.jobs import queue as rq_queue
from ivr.platform.jobs import rq_connection, rq_url

log = logging.getLogger("ivr.outbox")

ALIVE = ("queued", "started", "scheduled", "deferred")



@dataclass(frozen=True)
class DeliveryConfig:
    """How messages are delivered (keys of ``transfers:``, where hand-offs were the first
    messages). `lease`: how long a delivery attempt may take before another may start (a
    worker killed mid-delivery). `backoff`: the retry delays, the last repeated. `queue`: the
    RQ queue of deliveries (`ivr worker` serves ``ivr-high``)."""

    lease: float = 30.0
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 15.0, 60.0, 300.0)
    queue: str = "ivr-high"


def delivery_config(settings: Settings) -> DeliveryConfig:
    """Read ``transfers.handoff_lease_seconds``, ``handoff_backoff`` and ``handoff_queue``;
    `ConfigError` names the fault."""
    spec = dict(settings.raw.get("transfers") or {})
    try:
        backoff = tuple(float(x) for x in spec.get("handoff_backoff") or DeliveryConfig.backoff)
        lease = float(spec.get("handoff_lease_seconds") or DeliveryConfig.lease)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"transfers.handoff_backoff / handoff_lease_seconds: {exc}") from exc
    if not backoff or min(backoff) <= 0:
        raise ConfigError("transfers.handoff_backoff: positive seconds, at least one")
    if lease <= 0:
        raise ConfigError("transfers.handoff_lease_seconds must be positive")
    return DeliveryConfig(lease=lease, backoff=backoff,
                          queue=str(spec.get("handoff_queue") or DeliveryConfig.queue))


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
    config = delivery_config(settings)
    return outbox.attempt(_engine(settings.database_url), message_id,
                          lease=config.lease, steps=config.backoff)


def queue_name(settings: Settings) -> str:
    return delivery_config(settings).queue


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
    url = rq_url(settings)
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
