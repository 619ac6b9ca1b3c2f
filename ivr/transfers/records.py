"""The SQL record of transfers: one row per attempt, and every step of it with its time.

A transfer's state moves only by `advance`, a conditional UPDATE (``WHERE state IN (...)``):
webhooks, status callbacks and console requests race from any process, and exactly one of them
wins each move, on SQLite and PostgreSQL alike. The winner then does the phone work.

States: ``dialing`` -> ``briefing`` (warm: the dispatcher answered) -> ``completed`` (the
call-taker left, caller and dispatcher talk) | ``cancelled`` | ``failed`` (busy, no-answer,
failed, dispatcher-left) | ``abandoned`` (the caller hung up meanwhile). A cold or menu
transfer (and a rollover to an alternate PSAP) goes ``dialing`` -> ``connected`` |
``failed`` | ``abandoned``. A reclassified call (911 to 311) is recorded ``requeued`` at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.db import Writer
from ivr.platform.sql import Base, UTCDateTime

LIVE = ("dialing", "briefing")
FINAL = ("completed", "cancelled", "failed", "abandoned", "connected", "requeued")


class TransferRow(Base):
    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))  # warm | cold | menu | reclassify | rollover
    # console (or its API) | menu; a rollover's reason: no-staff | max-wait | all-busy
    origin: Mapped[str] = mapped_column(String(16))
    center: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(16))  # primary | secondary | queue
    dialed: Mapped[str] = mapped_column(String(200), default="")
    agent: Mapped[str | None] = mapped_column(String(64))
    reservation: Mapped[str | None] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    leg_sid: Mapped[str | None] = mapped_column(String(64))
    incident: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_transfers_call", "call_sid"),
        Index("ix_transfers_started", "started_at"),
    )


class TransferStep(Base):
    __tablename__ = "transfer_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_transfer_steps_transfer", "transfer_id", "id"),)


transfers = TransferRow.__table__
steps = TransferStep.__table__



@dataclass(frozen=True)
class Transfer:
    """A transfer row as the code reads it."""

    id: str
    call_sid: str
    mode: str
    origin: str
    center: str
    destination: str
    dialed: str
    agent: str | None
    reservation: str | None
    previous: str | None
    state: str
    reason: str | None
    leg_sid: str | None
    incident: str
    started_at: datetime
    answered_at: datetime | None
    agent_left_at: datetime | None
    ended_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def live(self) -> bool:
        return self.state in LIVE

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def new_id() -> str:
    return uuid.uuid4().hex


def create(conn: Writer, *, id: str, call_sid: str, mode: str, origin: str, center: str,
           destination: str, dialed: str, agent: str | None, reservation: str | None,
           incident: str, at: datetime, state: str = "dialing",
           previous: str | None = None) -> None:
    conn.execute(insert(transfers).values(
        id=id, call_sid=call_sid, mode=mode, origin=origin, center=center,
        destination=destination, dialed=dialed, agent=agent, reservation=reservation,
        previous=previous, state=state, incident=incident, started_at=at))
    step(conn, id, at, "started", f"{mode} to {center} ({destination})")


def step(conn: Writer, transfer_id: str, at: datetime, kind: str, detail: str = "") -> None:
    conn.execute(insert(steps).values(transfer_id=transfer_id, at=at, kind=kind,
                                      detail=detail[:2000]))


def advance(conn: Connection, transfer_id: str, from_states: tuple[str, ...], to: str,
            at: datetime, reason: str | None = None, **values: Any) -> bool:
    """Move the transfer to `to` if it is in one of `from_states`; True for the one winner.
    The step is recorded with the move."""
    fields: dict[str, Any] = {"state": to, **values}
    if reason is not None:
        fields["reason"] = reason
    if to in FINAL:
        fields.setdefault("ended_at", at)
    result = conn.execute(update(transfers).where(
        transfers.c.id == transfer_id, transfers.c.state.in_(from_states)).values(**fields))
    if result.rowcount != 1:
        return False
    step(conn, transfer_id, at, to, reason or "")
    return True


def mark_agent_left(conn: Connection, transfer_id: str, at: datetime) -> bool:
    """The call-taker's leg left the conference; True the first time only."""
    result = conn.execute(update(transfers).where(
        transfers.c.id == transfer_id, transfers.c.agent_left_at.is_(None))
        .values(agent_left_at=at))
    if result.rowcount != 1:
        return False
    t = get(conn, transfer_id)
    step(conn, transfer_id, at, "call-taker-left", t.state if t else "")
    return True


def set_fields(conn: Connection, transfer_id: str, **values: Any) -> None:
    conn.execute(update(transfers).where(transfers.c.id == transfer_id).values(**values))


def get(conn: Connection, transfer_id: str) -> Transfer | None:
    row = conn.execute(select(transfers).where(transfers.c.id == transfer_id)).mappings().first()
    return Transfer(**row) if row else None


def latest_for_call(conn: Connection, call_sid: str) -> Transfer | None:
    row = conn.execute(select(transfers).where(transfers.c.call_sid == call_sid)
                       .order_by(transfers.c.started_at.desc(), transfers.c.id.desc())
                       .limit(1)).mappings().first()
    return Transfer(**row) if row else None


def steps_of(conn: Connection, transfer_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(steps.c.at, steps.c.kind, steps.c.detail)
                        .where(steps.c.transfer_id == transfer_id).order_by(steps.c.id))
    return [{"at": r.at.isoformat(), "kind": r.kind, "detail": r.detail} for r in rows]


def recent(conn: Connection, limit: int = 100, center: str | None = None,
           modes: tuple[str, ...] = ("warm", "cold", "menu", "rollover")) -> list[Transfer]:
    query = select(transfers).where(transfers.c.mode.in_(modes))
    if center:
        query = query.where(transfers.c.center == center)
    rows = conn.execute(query.order_by(transfers.c.started_at.desc(), transfers.c.id.desc())
                        .limit(limit)).mappings()
    return [Transfer(**r) for r in rows]


def acknowledge(conn: Connection, transfer_id: str, by: str, at: datetime) -> bool:
    """The dispatcher has it; True the first time only."""
    result = conn.execute(update(transfers).where(
        transfers.c.id == transfer_id, transfers.c.acknowledged_at.is_(None))
        .values(acknowledged_at=at, acknowledged_by=by))
    if result.rowcount == 1:
        step(conn, transfer_id, at, "acknowledged", by)
        return True
    return False
