"""The audit log (`ivr.floor.models.AuditEntry`): add an entry, read a subject's or an actor's.

Written in its own short transaction, after the action it records was done (never holding an
SQL write open across a Redis or Twilio round trip); read by supervisors through the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from ivr.floor.models import AuditEntry

audit_t = AuditEntry.__table__


def add(engine: Engine, center: str, at: datetime, actor: str, action: str, subject: str,
        data: Mapping[str, Any] | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(audit_t).values(center=center, at=at, actor=actor[:64],
                                            action=action[:32], subject=subject[:80],
                                            data=dict(data) if data else None))


def entries(engine: Engine, center: str, *, subject: str | None = None,
            actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` entries of a subject and/or an actor, oldest first."""
    query = select(audit_t).where(audit_t.c.center == center)
    if subject is not None:
        query = query.where(audit_t.c.subject == subject)
    if actor is not None:
        query = query.where(audit_t.c.actor == actor)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(audit_t.c.id.desc()).limit(limit)).all()
    return [{"at": r.at.isoformat(), "actor": r.actor, "action": r.action,
             "subject": r.subject, "data": r.data or {}} for r in reversed(rows)]
