"""Repairs: what the engine found wrong after a fault, and what it did about it.

The reconciler and the journal write one row per repair (a call Twilio says has ended that was
still live here, a caller parked in a Twilio queue that no queue of ours held, a call-taker left
on a dead call, an event applied late). The wallboard counts today's rows and the audit accepts a
call's final state when a repair explains it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.sql import Base, UTCDateTime

# What kinds of difference are repaired (the wallboard shows one count a kind).
REPAIR_KINDS = (
    "call-ended",       # Twilio says the call has ended; it was live here
    "caller-requeued",  # a caller in a Twilio queue that none of ours held goes back in line
    "agent-freed",      # a call-taker on a call whose caller or conference is gone
    "accept-closed",    # an Accept found its caller gone: the call is closed, not requeued
    "journal",          # an event kept during an outage, applied when the store came back
    "journal-set-aside",  # an event that could not be applied after the outage (kept for a human)
    "call-unrecorded",  # a call to our lines that Twilio had and that never reached us (host down)
)


class Repair(Base):
    __tablename__ = "repairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    differed: Mapped[str] = mapped_column(Text, default="")  # what was found
    done: Mapped[str] = mapped_column(Text, default="")  # what was done about it
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_repairs_at", "at"),
        Index("ix_repairs_call", "call_sid"),
    )


def record(conn: Any, *, at: datetime, kind: str, differed: str, done: str,
           call_sid: str | None = None, agent_id: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    """Write one repair (in the caller's transaction)."""
    if kind not in REPAIR_KINDS:
        raise ValueError(f"unknown repair kind {kind!r}")
    conn.execute(Repair.__table__.insert().values(
        at=at, kind=kind, call_sid=call_sid, agent_id=agent_id, differed=differed, done=done,
        data=data))
