"""Connecting callers with call-takers: what the console calls, and the floor's tick.

The console (or the API) calls `accept`, `reject`, `hang_up`, `hold` and `resume`; every process
that may free a call-taker calls `route`; one or more processes call `tick` every second (the
worker runs `ivr.worker`). Offers are shown from agents' pub/sub events.

`accept` goes through agents' `Dispatcher` (state first, in Redis; then the network), with
Twilio's REST adapter: the caller is dequeued by REST into the conference named for the call and
the call-taker dialed into it; for a callback the call-taker is dialed, then the resident.
The webhooks (``/voice/agent/...``, `ivr.voice.agent_routes`) carry the call from there;
`ivr.connect.bridging` holds their logic, `ivr.connect.outcomes` the rules of how a call ends.
"""

from __future__ import annotations

from contextlib import suppress

from agents import (
    AgentError,
    CallEnded,
    Dispatcher,
    OfferClosed,
    Presence,
    Reservation,
    Tick,
    TransitionRefused,
)
from agents.model import Action, State
from ivr.accounts import roster
from ivr.calls import calllog, repairs
from ivr.connect import callbacks, offers, outcomes
from ivr.floor import statelog
from ivr.services import Services
from ivr.telephony.adapter import url
from ivr.telephony.speech import language_key

route = offers.route


# -- what the console calls ----------------------------------------------------------------------


class NotConnected(AgentError):
    """Hold or resume of a call that is not (or no longer) talking to a call-taker."""


class _Linked:
    """The `Telephony` the Dispatcher drives on accept: Twilio's, plus the record of what was
    done (the legs' sids, whether the caller was already taken out of the queue)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.dequeued = False

    def bridge(self, r: Reservation) -> None:
        if r.entry.data.get("callback") == "1":  # re-queued callback not yet flagged
            return self.call_back(r)
        tel, live = self.svc.telephony, self.svc.live.get(r.call_id)
        queue_sid = live.extra.get("queue_sid") if live is not None else None
        tel.dequeue(r, str(queue_sid) if queue_sid else None)
        self.dequeued = True
        self.svc.links.set(r.reservation_id, agent_leg=tel.dial_agent(r))

    def call_back(self, r: Reservation) -> None:
        self.svc.links.set(r.reservation_id, agent_leg=self.svc.telephony.dial_agent(r))

    def hangup(self, call_id: str) -> None:
        self.svc.telephony.hangup(call_id)


def accept(svc: Services, reservation_id: str, agent_id: str | None = None,
           now: float | None = None) -> Reservation:
    """The call-taker accepts an offer: on the call at once, the caller dequeued into the
    call's conference and the call-taker's phone rung into it (a callback: the call-taker's
    phone, then the resident's). Raises `OfferClosed` (gone, late, someone else's, caller
    gone) or `TelephonyError` (Twilio refused; the caller is back in line, unharmed)."""
    now = offers.now_of(svc, now)
    r = svc.router.reservations.get(reservation_id)
    if r is None:
        raise OfferClosed(reservation_id, "missing")
    if agent_id is not None and r.agent_id != agent_id:
        raise OfferClosed(reservation_id, "not_yours", r.agent_id)
    attempt = int(r.entry.data.get("attempt") or 1)
    callback = r.callback or r.entry.data.get("callback") == "1"
    if svc.links.open(reservation_id, r.agent_id, r.entry, now, attempt) is None:
        raise OfferClosed(reservation_id, "missing")  # being accepted right now, elsewhere
    live = None if callback else svc.live.get(r.call_id)
    if live is not None and live.phase == "queued":
        svc.live.put(live.evolve(phase="connecting", outcome="abandoned"))
    linked = _Linked(svc)
    try:
        r = Dispatcher(svc.router, linked).accept(reservation_id, now, agent_id)
    except OfferClosed as exc:
        svc.links.discard(reservation_id, r.call_id)
        _restore(svc, r.call_id)
        if exc.reason == "caller_gone":
            offers.route(svc, now)
        raise
    except CallEnded as exc:  # the caller hung up and Twilio's word of it was lost
        offers.record(svc, r.call_id, now, "accepted", r.agent_id, offers.about(r))
        _caller_ended_before_bridge(svc, r, now, str(exc))
        raise OfferClosed(reservation_id, "caller_gone", str(exc)) from exc
    except Exception as exc:  # TelephonyError, or anything after the state changed
        offers.record(svc, r.call_id, now, "accepted", r.agent_id, offers.about(r))
        if linked.dequeued or callback:
            outcomes.close(svc, reservation_id, "agent-failed", "network", now, str(exc))
        else:
            _not_dequeued(svc, r, now, str(exc))
        raise
    offers.record(svc, r.call_id, now, "accepted", r.agent_id,
                  offers.about(r, offered_for=round(now - r.offered_at, 1)))
    return r


def _restore(svc: Services, call_id: str) -> None:
    live = svc.live.get(call_id)
    if live is not None and live.phase == "connecting":
        svc.live.put(live.evolve(phase="queued", outcome=None))


def _caller_ended_before_bridge(svc: Services, r: Reservation, now: float, why: str) -> None:
    """An Accept found no caller on the line: the call is closed at once (never requeued, so
    never offered again) and the call-taker is free for the next call (there was no call to
    wrap up). Recorded as a repair: the call's own final callback never arrived."""
    svc.links.close(r.reservation_id, "caller-gone", now, "caller")
    with suppress(AgentError):
        svc.agents.end_call(r.agent_id, now, r.call_id)
    with suppress(AgentError):
        svc.agents.finish_wrap_up(r.agent_id, now)
    live = svc.live.get(r.call_id)
    if live is not None:
        svc.live.put(live.evolve(phase="ended", outcome="abandoned"))
    at = offers.at(now)
    with svc.engine.begin() as conn:
        if calllog.exists(conn, r.call_id):
            calllog.add_event(conn, r.call_id, at, "accept-closed", why, offers.about(r))
            calllog.apply_status(conn, r.call_id, status="completed", sequence=1_000_000,
                                 at=at, duration=None, outcome_if_final="abandoned")
        repairs.record(conn, at=at, kind="accept-closed", call_sid=r.call_id,
                       agent_id=r.agent_id, differed=f"accepted, but {why}",
                       done="call closed, not requeued; call-taker free")
    offers.route(svc, now)


def _not_dequeued(svc: Services, r: Reservation, now: float, why: str) -> None:
    """The dequeue failed: the caller either hung up (their own callbacks record it) or is
    still in Twilio's queue, hearing hold music; then they go back to their place in ours."""
    svc.links.close(r.reservation_id, "bridge-failed", now, "network")
    offers.record(svc, r.call_id, now, "bridge-failed", why, offers.about(r))
    with suppress(AgentError):  # the Dispatcher ends it on a TelephonyError; else, here
        svc.agents.end_call(r.agent_id, now, r.call_id)
    live = svc.live.get(r.call_id)
    if live is not None and live.phase == "connecting":
        e = r.entry
        svc.queues.push(e.call_id, e.queue_class, e.priority, e.skills, e.arrival, e.data,
                        with_position=False)
        svc.live.put(live.evolve(phase="queued", outcome=None))
    offers.route(svc, now)


def reject(svc: Services, reservation_id: str, agent_id: str | None = None,
           now: float | None = None) -> Reservation:
    """The call-taker declines: the call goes back to its original place and is offered to
    the next call-taker; the miss counts (a break after `Rules.max_missed` in a row)."""
    now = offers.now_of(svc, now)
    r = svc.router.reservations.reject(reservation_id, now, agent_id)
    offers.record_missed(svc, "rejected", [r], now)
    offers.route(svc, now)
    return r


def hang_up(svc: Services, agent_id: str, now: float | None = None) -> Presence:
    """The call-taker ends their call from the console: wrap-up; the caller hears a goodbye.
    Before the caller is connected it counts as the call-taker's leg failing: the caller goes
    back to their place in line."""
    now = offers.now_of(svc, now)
    current = svc.agents.get(agent_id)
    if current is None or current.state != State.ON_CALL or current.call_id is None:
        state = current.state if current is not None else State.OFFLINE
        raise TransitionRefused(agent_id, Action.END_CALL, state)
    link = svc.links.for_call(current.call_id)
    if link is None or link.agent_id != agent_id or link.closed:
        return Dispatcher(svc.router, _Linked(svc)).hang_up(agent_id, now)
    reason = "ended" if link.bridged else "agent-failed"
    outcomes.close(svc, link.reservation_id, reason, "console", now, "ended from the console")
    return svc.agents.get(agent_id) or current


def hold(svc: Services, call_id: str, now: float | None = None) -> None:
    """Put the caller on hold (they hear hold music; the call-taker may talk to others)."""
    _hold(svc, call_id, True, offers.now_of(svc, now))


def resume(svc: Services, call_id: str, now: float | None = None) -> None:
    """Take the caller off hold."""
    _hold(svc, call_id, False, offers.now_of(svc, now))


def _hold(svc: Services, call_id: str, on: bool, now: float) -> None:
    link = svc.links.for_call(call_id)
    if link is None or link.closed or not link.bridged or not link.caller_leg:
        raise NotConnected(f"call {call_id} is not connected to a call-taker")
    tel = svc.telephony
    conference = link.conference_sid or tel.conference_sid(call_id)
    if conference is None:
        raise NotConnected(f"call {call_id} is not in a conference any more")
    hold_url = url(svc.settings, "hold", lang=language_key(outcomes.language_of(link)),
                   who="held")
    tel.hold(conference, link.caller_leg, on, hold_url)
    svc.links.set(link.reservation_id, conference_sid=conference, held="1" if on else "0")
    offers.record(svc, link.call_id, now, "hold" if on else "resume", link.agent_id,
                  {"agent": link.agent_id})


def tick(svc: Services, now: float | None = None) -> Tick:
    """The periodic work, every second: presence brought in line with accounts (`roster`),
    callbacks whose retry is due go back in line, then the router's tick (wrap-ups and reject
    delays ended, offers timed out, routing), recorded; then the waiting calls' own work
    (a line's rollover: `ivr.services.CallHooks.waiting_tick`)."""
    now = offers.now_of(svc, now)
    roster.reconcile(svc, now)
    callbacks.due(svc, now)
    done = svc.router.tick(now)
    offers.record_missed(svc, "expired", done.expired, now)
    offers.record_offers(svc, offers.checked(svc, done.offered, now))
    statelog.drain(svc.agents, svc.engine)  # the call-takers' state history, into SQL
    svc.hooks.waiting_tick(svc, now)  # after routing: a call a call-taker just got stays
    return done
