"""Durable records of calls: what happened, when, and how each call ended.

Reports and audits read these tables only, never Redis. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite forgets the offset; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


# How a call ended. "live" until a final state is known; the others are final.
OUTCOMES = (
    "live", "self-service", "answered", "abandoned", "transferred", "voicemail", "callback",
    "failed",
)


class Call(Base):
    __tablename__ = "calls"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str] = mapped_column(String(32), default="")  # E.164; never logged in plain
    dialed: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    flow: Mapped[str | None] = mapped_column(String(64))
    flow_version: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    twilio_status: Mapped[str] = mapped_column(String(16), default="in-progress")
    status_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    duration: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16), default="live")
    # Where the call was when it left the flow: queue class, transfer target, ...
    disposition: Mapped[str | None] = mapped_column(String(64))
    queue_class: Mapped[str | None] = mapped_column(String(64))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[float | None] = mapped_column(Float)

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_caller", "caller"),
        Index("ix_calls_outcome", "outcome"),
    )


class CallEvent(Base):
    """One step of one call: a webhook, a menu choice, a status callback, an error."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    call: Mapped[Call] = relationship(back_populates="events")

    __table_args__ = (
        Index("ix_call_events_call", "call_sid", "id"),
        Index("ix_call_events_kind", "kind"),
    )


class AgentState(Base):
    """One change of a call-taker's presence, as agents/ published it (ivr/floorlog.py copies
    them from Redis): login, offer, accept, break, end of call, end of wrap-up...

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
