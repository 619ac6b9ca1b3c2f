"""Offers made to call-takers, and their SQL record.

agents/ makes and settles offers atomically in Redis and publishes them on its pub/sub channel
(the console shows them from there). This module is the application's side: it asks the router
for matches whenever one may have become possible, and writes every offer and its fate into the
call's SQL record (``offered``, ``rejected``, ``expired``, ``offer-cancelled``), so reports and
audits can tell how long each call was offered to whom without Redis.

Route through `route` (never `svc.router.route` directly): it is the same match, plus the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from agents import Reservation
from ivr.calls import calllog
from ivr.platform.db import Pending, Writer
from ivr.services import Services


def now_of(svc: Services, now: float | None = None) -> float:
    return svc.clock().timestamp() if now is None else now


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def record(
    svc: Services, call_id: str, ts: float, kind: str, detail: str = "",
    data: dict[str, Any] | None = None, conn: Writer | None = None,
) -> None:
    """One event on the call's record (in `conn`'s transaction when given)."""
    if conn is not None:
        calllog.add_event(conn, call_id, at(ts), kind, detail, data)
        return
    with svc.engine.begin() as own:
        calllog.add_event(own, call_id, at(ts), kind, detail, data)


def about(r: Reservation, **more: Any) -> dict[str, Any]:
    """The data every offer event carries: who, which offer, and the call's standing."""
    return {"agent": r.agent_id, "reservation": r.reservation_id, "callback": r.callback,
            "attempts": r.entry.attempts, **more}


def record_offers(svc: Services, offers: Iterable[Reservation],
                  conn: Writer | None = None) -> None:
    for r in offers:
        record(svc, r.call_id, r.offered_at, "offered", r.agent_id,
               about(r, expires_at=r.expires_at), conn)


def record_missed(svc: Services, kind: str, missed: Iterable[Reservation], now: float,
                  conn: Writer | None = None) -> None:
    """``rejected`` (at `now`) or ``expired`` (at each offer's own deadline)."""
    for r in missed:
        when = r.expires_at if kind == "expired" else now
        record(svc, r.call_id, when, kind, r.agent_id,
               about(r, offered_for=round(when - r.offered_at, 1)), conn)


def route(svc: Services, now: float | None = None,
          conn: Writer | None = None) -> list[Reservation]:
    """Make every match possible now and record the offers. Call it whenever a call joined the
    line or a call-taker may have become free (login, end of break, end of wrap-up, a reject,
    a cancelled offer); `ivr.connect.actions.tick` does it every second anyway."""
    now = now_of(svc, now)
    made = svc.router.route(now)
    if conn is None or isinstance(conn, Pending):  # never a Twilio round trip in an SQL write
        made = checked(svc, made, now)
    record_offers(svc, made, conn)
    return made


def checked(svc: Services, made: Iterable[Reservation], now: float) -> list[Reservation]:
    """The fresh offers whose caller is still on the line (`still_there`); the others are
    withdrawn. Every offer the router makes goes through here before it is recorded, whoever
    asked for it (a webhook's `route`, the ticker's `tick`)."""
    return [r for r in made if still_there(svc, r, now)]


def still_there(svc: Services, r: Reservation, now: float | None = None) -> bool:
    """Is the caller of this fresh offer still on the line? Asked of Twilio before the offer
    is recorded, so a caller whose hang-up never reached us (a lost final status callback, a
    restart gap) is never offered: the call is ended here at once as Twilio ended it, the
    offer is withdrawn and the call-taker offered the next call. A call already ended here
    (put back in line by mistake) is withdrawn the same way: its end changes nothing any more,
    so the offer is cancelled here. A callback's caller has hung up on purpose, so it is not
    asked about; if Twilio cannot be asked, the caller counts as there (the Accept finds out)."""
    if r.callback:
        return True
    ended = svc.telephony.ended(r.call_id)
    if ended is None:
        return True
    svc.hooks.ended_at_twilio(svc, ended, f"when offered to {r.agent_id}")
    now = now_of(svc, now)
    gone = svc.router.reservations.caller_gone(r.call_id, now)  # "unknown" if that did it
    if gone.status == "offered" and gone.reservation is not None:
        cancelled(svc, gone.reservation, now)
    return False


def cancelled(svc: Services, r: Reservation, now: float, conn: Writer | None = None) -> None:
    """The caller left while offered: the call-taker is already free (agents did it); record
    it and offer them the next call."""
    record(svc, r.call_id, now, "offer-cancelled", r.agent_id, about(r), conn)
    route(svc, now, conn)
