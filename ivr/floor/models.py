"""The call-takers' state history in SQL (copied from the agents' log stream by `statelog`), and
the audit log of what people did to live calls (`ivr.floor.auditlog`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.sql import Base, UTCDateTime


class AgentState(Base):
    """One change of a call-taker's presence, as agents/ published it (`ivr.floor.statelog`
    copies them from Redis): login, offer, accept, break, end of call, end of wrap-up...

    `seq` is agents' per-center event counter, so the order of two changes in the same
    instant is known; (center, seq, at) makes copying the same event twice harmless. `skills`
    are the call-taker's skills at that moment (the audit asks whom a waiting call could have
    gone to).
    """

    __tablename__ = "agent_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    reservation: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[list[str] | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("center", "seq", "at", name="uq_agent_states_seq_at"),
        Index("ix_agent_states_agent", "agent", "seq"),
        Index("ix_agent_states_at", "center", "at"),
    )


class AuditEntry(Base):
    """One action a person took that others must be able to account for later: who (`actor`,
    an account login), what (`action`), on what (`subject`, e.g. ``call:CA...``), when, with
    its details in `data`. Rows are only ever added. Supervisors listening to, coaching or
    barging into a call are written here (`ivr.floor.auditlog`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_audit_log_subject", "center", "subject", "id"),
        Index("ix_audit_log_actor", "center", "actor", "id"),
    )
