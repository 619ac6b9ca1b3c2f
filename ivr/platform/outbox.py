"""The outbox: messages to other systems, written in the transaction of the fact they report,
then delivered by RQ jobs until the receiver acknowledges (2xx).

Generic: a message has a `kind` (``eido-handoff``, ``open311-forward``), a destination
URL, the *name* of the environment variable holding its signing secret, a JSON payload and an
idempotency key. Any module adds one with `add(conn, ...)` inside its own transaction and calls
`kick(settings, id)` after the commit; nothing else is needed.

Delivery (`deliver`, the RQ job) POSTs the payload with

* ``Idempotency-Key``: the same on every attempt; a receiver that honours it never acts twice;
* ``X-Outbox-Timestamp`` (Unix seconds) and ``X-Outbox-Signature: sha256=<hex>``, the
  HMAC-SHA256 of ``"<timestamp>.<body>"`` with the secret (`verify` is the receiver's check:
  a stale timestamp is refused, so a captured request cannot be replayed later).

A city's Open311 server knows nothing of these headers: an ``open311-forward`` message is sent
as the standard form POST instead, with the secret as its ``api_key`` field (and the
``Idempotency-Key`` header, for a server that honours it).

Nothing is lost when a process or Redis restarts: the SQL row is the truth, the RQ job only a
nudge. Each attempt first *claims* the row (a conditional UPDATE moves `next_attempt_at` past
a lease), so two workers never post at once; a worker killed mid-delivery leaves the row to be
claimed again when the lease ends. `sweep` (run every second by the ticker beside each worker)
re-enqueues every message that is due: first tries whose job was lost, retries after backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Text,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Writer
from ivr.platform.sql import Base, UTCDateTime

log = logging.getLogger("ivr.outbox")

SIGNATURE = "X-Outbox-Signature"
TIMESTAMP = "X-Outbox-Timestamp"
KEY = "Idempotency-Key"
TIMEOUT = 10.0
MAX_SKEW = 300  # seconds a receiver accepts between the timestamp and its own clock
OPEN311_FORWARD = "open311-forward"  # sent as an Open311 form POST (see the module docstring)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str | None] = mapped_column(String(500))  # None: pulled, never pushed
    secret_name: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str | None] = mapped_column(String(64))  # what it is about (a transfer id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),
                      Index("ix_outbox_subject", "subject"))


outbox = OutboxMessage.__table__


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    destination: str | None
    secret_name: str | None
    payload: dict[str, Any]
    idempotency_key: str
    subject: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


def add(conn: Writer, *, kind: str, destination: str | None, secret_name: str | None,
        payload: dict[str, Any], idempotency_key: str, at: datetime,
        subject: str | None = None) -> None:
    """Write a message in the caller's transaction. A message with no destination is kept for
    receivers that pull (it is never posted)."""
    conn.execute(insert(outbox).values(
        kind=kind, destination=destination, secret_name=secret_name, payload=payload,
        idempotency_key=idempotency_key, subject=subject, created_at=at,
        next_attempt_at=None, attempts=0))  # None: due at once, on the deliverer's clock


def get(conn: Connection, message_id: int) -> Message | None:
    row = conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()
    return Message(**row) if row else None


def by_key(conn: Connection, key: str) -> Message | None:
    row = conn.execute(select(outbox).where(outbox.c.idempotency_key == key)).mappings().first()
    return Message(**row) if row else None


# -- signing -------------------------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, key: str, now: float) -> dict[str, str]:
    ts = str(int(now))
    return {"Content-Type": "application/json", KEY: key, TIMESTAMP: ts,
            SIGNATURE: signature(secret, ts, body)}


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float,
           max_skew: float = MAX_SKEW) -> bool:
    """The receiver's check: the signature matches and the timestamp is recent."""
    ts, given = headers.get(TIMESTAMP, ""), headers.get(SIGNATURE, "")
    if not ts.isdigit() or abs(now - int(ts)) > max_skew:
        return False
    return hmac.compare_digest(signature(secret, ts, body), given)


# -- delivery ------------------------------------------------------------------------------------

def _encoded(message: Message, secret: str, now: float) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt: signed JSON, or an Open311 form with its api_key."""
    if message.kind == OPEN311_FORWARD:
        body = urlencode({**message.payload, "api_key": secret}, doseq=True).encode()
        return body, {"Content-Type": "application/x-www-form-urlencoded",
                      KEY: message.idempotency_key}
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    return body, signed_headers(secret, body, message.idempotency_key, now)


def _claim(conn: Connection, message_id: int, now: datetime, lease: float) -> Message | None:
    """Take the message for one attempt (until `now + lease`); None when it is delivered,
    unknown, or another attempt holds it."""
    result = conn.execute(update(outbox).where(
        outbox.c.id == message_id, outbox.c.delivered_at.is_(None),
        outbox.c.destination.is_not(None),
        or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
    ).values(next_attempt_at=now + timedelta(seconds=lease),
             attempts=outbox.c.attempts + 1))
    return get(conn, message_id) if result.rowcount == 1 else None


def backoff(attempts: int, steps: tuple[float, ...]) -> float:
    return steps[min(max(attempts, 1), len(steps)) - 1]


def attempt(engine: Engine, message_id: int, *, lease: float, steps: tuple[float, ...],
            env: Mapping[str, str] | None = None, now: float | None = None,
            session: requests.Session | None = None) -> str:
    """One delivery attempt. Returns ``delivered``, ``retry`` (scheduled after backoff) or
    ``skipped`` (delivered already, or held by another attempt)."""
    started = time.time() if now is None else now
    at = datetime.fromtimestamp(started, UTC)
    with engine.begin() as conn:
        message = _claim(conn, message_id, at, lease)
    if message is None:
        return "skipped"
    environment = os.environ if env is None else env
    secret = environment.get(message.secret_name or "") if message.secret_name else None
    error: str | None
    if not secret:
        error = f"no signing secret: set {message.secret_name} in the environment"
    else:
        body, headers = _encoded(message, secret, time.time())
        try:
            response = (session or requests).post(message.destination or "", data=body,
                                                  headers=headers, timeout=TIMEOUT)
            error = None if 200 <= response.status_code < 300 else \
                f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    done = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    with engine.begin() as conn:
        if error is None:
            conn.execute(update(outbox).where(outbox.c.id == message_id)
                         .values(delivered_at=done, last_error=None))
            return "delivered"
        delay = backoff(message.attempts, steps)
        conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.delivered_at
                                          .is_(None))
                     .values(next_attempt_at=done + timedelta(seconds=delay), last_error=error))
    log.warning("outbox %s (%s): attempt %d failed: %s; next in %.0f s", message_id,
                message.kind, message.attempts, error, delay)
    return "retry"


def due(conn: Connection, now: datetime, limit: int = 100) -> list[int]:
    rows = conn.execute(select(outbox.c.id).where(
        outbox.c.delivered_at.is_(None), outbox.c.destination.is_not(None),
        or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
        .order_by(outbox.c.id).limit(limit))
    return [int(r.id) for r in rows]
