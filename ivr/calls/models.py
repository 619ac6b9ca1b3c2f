"""Durable records of calls: what happened, when, and how each call ended.

Reports and audits read these tables only, never Redis. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.platform.sql import Base, UTCDateTime

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
