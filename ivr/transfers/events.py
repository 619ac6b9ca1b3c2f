"""What Twilio reports about a transfer: the dispatch leg's status callbacks and the call's
conference events (see `ivr.transfers.actions` for the whole story), and the helpers every part of
the transfers uses.

Each report may come late, twice or out of order. Every move of a transfer is a conditional
UPDATE (`ivr.transfers.records.advance`): the first report to make a move does the phone work, the
rest change nothing. The conference's join/leave events are a second witness of the dispatch
leg, beside its own status callbacks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.engine import Connection

from agents import TelephonyError
from ivr.calls import calllog
from ivr.calls.links import Link
from ivr.calls.models import Call
from ivr.connect.outcomes import FAILED
from ivr.services import Services
from ivr.transfers import records
from ivr.transfers.centers import TransferConfig, transfer_config
from ivr.transfers.records import LIVE, Transfer

log = logging.getLogger("ivr.transfers")

PREFIX = "/voice/transfer"
HANDOFF = "eido-handoff"


def hook_url(svc: Services, path: str, **query: Any) -> str:
    params = {k: str(v) for k, v in query.items() if v is not None}
    return f"{svc.settings.public_url}{PREFIX}/{path}" + (f"?{urlencode(params)}" if params else "")


def config(svc: Services) -> TransferConfig:
    return transfer_config(svc.settings)


def at_(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def quietly(what: str, fn, *args) -> Any:  # type: ignore[no-untyped-def]
    """A phone request whose failure must not stop the rest (the leg may be gone already)."""
    try:
        return fn(*args)
    except TelephonyError as exc:
        log.warning("transfer: %s: %s", what, exc)
        return None


def set_outcome(conn: Connection, call_sid: str, outcome: str) -> None:
    """The call's outcome in SQL, if its final status callback came already. Call
    `live_outcome` too, after the transaction: no Redis round trip inside a write."""
    if _ended(conn, call_sid):
        calllog.set_fields(conn, call_sid, outcome=outcome)


def live_outcome(svc: Services, call_sid: str, outcome: str) -> None:
    """The call's outcome in Redis, for its final status callback to record."""
    live = svc.live.get(call_sid)
    if live is not None:
        svc.live.put(live.evolve(outcome=outcome))


def _ended(conn: Connection, call_sid: str) -> bool:
    row = conn.execute(select(Call.outcome).where(Call.sid == call_sid)).first()
    return bool(row and row.outcome != "live")


# -- what Twilio reports ------------------------------------------------------------------------

def leg_status(svc: Services, tid: str, form: Mapping[str, str], now: float) -> None:
    """A status callback of a dispatch leg added to the conference."""
    status, sid = form.get("CallStatus", ""), form.get("CallSid", "")
    if not svc.live.first_time(f"xfer:{sid}:{form.get('SequenceNumber', '')}:{status}"):
        return
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        return
    if sid and not t.leg_sid:
        with svc.engine.begin() as conn:
            records.set_fields(conn, tid, leg_sid=sid)
    if status == "in-progress":
        answered(svc, tid, now)
    elif status in FAILED:
        failed(svc, tid, status, now)
    elif status == "completed":
        dispatcher_left(svc, tid, now)


def answered(svc: Services, tid: str, now: float) -> None:
    """The dispatch line answered: briefing, or (the call-taker already gone) straight to the
    caller."""
    with svc.engine.begin() as conn:
        if records.advance(conn, tid, ("dialing",), "briefing", at_(now), "dispatcher answered",
                           answered_at=at_(now)):
            t = records.get(conn, tid)
            if t is not None:
                calllog.add_event(conn, t.call_sid, at_(now), "transfer-answered", t.center,
                                  {"transfer": tid})
    _complete_if_agent_gone(svc, tid, now)


def _complete_if_agent_gone(svc: Services, tid: str, now: float) -> None:
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        if t is None or t.agent_left_at is None:
            return
        won = records.advance(conn, tid, ("briefing",), "completed", at_(now),
                              "call-taker had left: caller connected to the dispatcher")
        if won:
            calllog.add_event(conn, t.call_sid, at_(now), "transfer-completed", t.center,
                              {"transfer": tid, "agent": None})
    if won and t.reservation:
        link = svc.links.get(t.reservation)
        if link is not None:
            hand_over(svc, t, link)


def hand_over(svc: Services, t: Transfer, link: Link) -> None:
    """Caller and dispatcher together: off hold; the call counts as transferred."""
    conference = link.conference_sid or svc.telephony.conference_sid(link.call_id)
    if conference:
        quietly("caller off hold", svc.telephony.hold, conference, link.caller_leg, False)
    live_outcome(svc, t.call_sid, "transferred")
    with svc.engine.begin() as conn:
        set_outcome(conn, t.call_sid, "transferred")


def failed(svc: Services, tid: str, why: str, now: float,
           from_states: tuple[str, ...] = ("dialing",)) -> None:
    """The attempt failed (busy, no-answer, failed, dispatcher-left, network): the caller is
    back with the call-taker, or, with nobody to come back to, back in line at the front."""
    with svc.engine.begin() as conn:
        won = records.advance(conn, tid, from_states, "failed", at_(now), why)
        t = records.get(conn, tid)
        if won and t is not None:
            calllog.add_event(conn, t.call_sid, at_(now), "transfer-failed", why,
                              {"transfer": tid, "center": t.center})
    if not won or t is None or t.reservation is None:
        return
    link = svc.links.get(t.reservation)
    if link is None:
        return
    if link.closed or t.agent_left_at is not None:
        # Nobody to come back to: the caller goes back in line, at the front.
        quietly("requeue caller", svc.telephony.redirect, link.caller_leg or "",
                hook_url(svc, "requeue", t=tid))
        return
    back_with_call_taker(svc, t, link)


def back_with_call_taker(svc: Services, t: Transfer, link: Link) -> None:
    """The caller off hold, with the call-taker; the link is no longer held by a transfer,
    so the usual end of a call applies again."""
    svc.links.clear(link.reservation_id, "transfer")
    conference = link.conference_sid or svc.telephony.conference_sid(link.call_id)
    if conference:
        quietly("caller off hold", svc.telephony.hold, conference, link.caller_leg, False)
    svc.links.set(link.reservation_id, held="0")


def dispatcher_left(svc: Services, tid: str, now: float, joined: bool = False) -> None:
    """The dispatch leg ended: while briefing, a failure (the caller back with the call-taker);
    after completion, the end of the call (the caller hears a goodbye). `joined`: it is known
    to have been in the conference (its leave event), even if no answer was reported yet."""
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        return
    if t.state == "briefing" or (joined and t.state == "dialing"):
        failed(svc, tid, "dispatcher-left", now,
               ("briefing", "dialing") if joined else ("briefing",))
    elif t.state in ("completed", "abandoned"):
        _end_conference(svc, t)


def _end_conference(svc: Services, t: Transfer) -> None:
    link = svc.links.get(t.reservation) if t.reservation else None
    if link is not None:
        quietly("end conference", svc.telephony.end_conference, link.call_id,
                link.conference_sid)


def participant_event(svc: Services, link: Link, event: str, leg: str, now: float) -> None:
    """A ``participant-join`` or ``-leave`` event of the call's conference while a transfer
    holds it. Conference events are the second witness of the dispatch leg: its own status
    callbacks may come late or out of order, its joining the room is what matters."""
    with svc.engine.connect() as conn:
        t = records.get(conn, link.transfer or "")
    if t is None or t.mode != "warm" or not leg:
        return
    # An earlier attempt's dispatch leg (a late event after a retry to the secondary) is not
    # this one's: once the leg is known, only it counts.
    dispatcher = leg == t.leg_sid if t.leg_sid else leg not in (link.caller_leg, link.agent_leg)
    if event == "participant-join":
        if dispatcher:
            answered(svc, t.id, now)
    elif leg == link.caller_leg:
        caller_gone(svc, t, now)
    elif leg == link.agent_leg:
        _agent_left(svc, t, now)
    elif dispatcher:
        dispatcher_left(svc, t.id, now, joined=True)


def caller_hung_up(svc: Services, link: Link, now: float) -> None:
    """The caller's own leg ended while a transfer held the link (their Dial action or
    status callback, whichever comes first)."""
    with svc.engine.connect() as conn:
        t = records.get(conn, link.transfer or "")
    if t is not None and t.mode == "warm":
        caller_gone(svc, t, now)


def caller_gone(svc: Services, t: Transfer, now: float) -> None:
    """The caller hung up: during the transfer it is abandoned (the dispatch leg dropped, the
    conference ended); after completion the conference ends (the dispatcher is not left in
    it)."""
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, LIVE, "abandoned", at_(now),
                              "the caller hung up during the transfer")
        if won:
            calllog.add_event(conn, t.call_sid, at_(now), "abandoned-during-transfer", t.center,
                              {"transfer": t.id})
            set_outcome(conn, t.call_sid, "abandoned")
    if won:
        live_outcome(svc, t.call_sid, "abandoned")
        quietly("drop the dispatch leg", svc.telephony.end_leg, t.leg_sid)
        _end_conference(svc, t)
    elif t.state == "completed" or (current_state(svc, t.id) == "completed"):
        _end_conference(svc, t)


def current_state(svc: Services, tid: str) -> str | None:
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    return t.state if t else None


def _agent_left(svc: Services, t: Transfer, now: float) -> None:
    with svc.engine.begin() as conn:
        if not records.mark_agent_left(conn, t.id, at_(now)):
            return  # reported before (Twilio repeats its callbacks)
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, ("briefing",), "completed", at_(now),
                              "call-taker left while briefing")
        if won:
            calllog.add_event(conn, t.call_sid, at_(now), "transfer-completed", t.center,
                              {"transfer": t.id, "agent": t.agent})
    if won and t.reservation:
        link = svc.links.get(t.reservation)
        if link is not None:
            hand_over(svc, t, link)


