"""The audit of a span of records: the floor's invariants, checked from SQL alone.

1. ``final-state``: every call that entered ended in one final state. A call that was queued
   ends answered, abandoned, transferred, voicemail or callback, or is still live; a call that
   ended is never still "live"; an answered call was connected to a call-taker, an abandoned
   one never was.
2. ``double-offer``: no call was offered to (or held by) two call-takers at once.
3. ``priority``: no call was offered to a call-taker while a call of a better-ranked class
   (911 over 311) that the same call-taker could take was waiting.
4. ``reserved-while-busy``: no call-taker was offered a call unless available (never while
   on a call, in wrap-up, on break or already holding an offer).

After a fault (`ivr.voice.reconcile` repairs what it finds; these rules see what is left):

5. ``twilio-final-state``: every call's final state agrees with Twilio's (given Twilio's records
   of the day: `ivr audit --twilio` reads them over REST): nothing live here that Twilio ended,
   nothing ended here that Twilio still has up, no call of our lines at Twilio without a record.
6. ``on-call-without-call``: no call-taker stayed on a call more than `STUCK` after it ended.
7. ``offer-after-end``: no call was offered after it ended.
   (Neither rule holds a callback to its inbound leg's end: it is served after it.)
8. ``ended-twice``: a call is ended once (a replayed callback changes nothing): no more link
   ends than bridges (a second abandon is rule 1's).
9. ``parked-unserved``: no caller the safe answer parked in a Twilio queue was left there:
   each was brought back in line (or hung up) within `PARKED`.

Checks 2-4 read the call-takers' state history (``agent_states``, copied from agents' log by
`ivr.floor.statelog`): its `seq` orders every change of the center, so "at once" is decided exactly,
not by timestamps that may be equal. Waits come from the calls' events. When a waiting call and
an offer fall in the same instant, the audit gives the router the benefit of the doubt (a call
queued in that instant may have arrived just after the offer).

`audit(engine, start, end)` returns the violations; `ivr audit` prints them.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from ivr.calls.models import Call, CallEvent
from ivr.floor import statelog
from ivr.floor.models import AgentState
from ivr.services import Services

calls_t = Call.__table__
events_t = CallEvent.__table__
states_t = AgentState.__table__

ENDINGS = {"answered", "abandoned", "transferred", "voicemail", "callback"}
# Events after which a call is back in line (by time; offers are placed by the state history).
BACK_IN_LINE = ("requeued", "bridge-failed")
# Events after which a call is no longer waiting.
LEFT_LINE = ("abandoned", "callback", "queue-voicemail", "queue-overflow", "queue-self-service",
             "caller-gone", "bridged")
RELEVANT = ("enqueue", "bridged", "offered", "ended", "safe-answer", *BACK_IN_LINE, *LEFT_LINE)
STUCK = timedelta(seconds=30)
PARKED = timedelta(seconds=120)
OFFER_SLACK = timedelta(seconds=1)
LIVE_AT_TWILIO = ("queued", "ringing", "in-progress")
HOLDING = ("reserved", "on_call")
INF = math.inf
SLACK = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Violation:
    """One broken invariant, with the calls (and call-taker) involved."""

    rule: str
    message: str
    calls: tuple[str, ...]
    agent: str | None = None
    at: datetime | None = None

    def __str__(self) -> str:
        when = f"{self.at.isoformat()} " if self.at else ""
        who = f" (call-taker {self.agent})" if self.agent else ""
        return f"{when}{self.rule}: {self.message}{who} [calls: {', '.join(self.calls)}]"


@dataclass(frozen=True)
class TwilioCall:
    """One call as Twilio's records have it (Calls resource)."""

    sid: str
    status: str
    start: datetime | None
    end: datetime | None
    to: str = ""
    inbound: bool = True


@dataclass
class _Call:
    sid: str
    queue_class: str | None
    queued_at: datetime | None
    ended_at: datetime | None
    outcome: str
    skills: frozenset[str] = frozenset()
    kinds: list[tuple[datetime, str]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def called_back(self) -> bool:
        """The caller hung up for a callback: the call is served after its inbound leg ended
        (offered, then the call-taker on the call back), so that end is not the call's."""
        return self.outcome == "callback" or any(kind == "callback" for _at, kind in self.kinds)


def audit(engine: Engine, start: datetime, end: datetime,
          ranks: Mapping[str, int] | None = None, center: str | None = None,
          twilio: Mapping[str, TwilioCall] | None = None,
          our_numbers: Iterable[str] = (), now: datetime | None = None) -> list[Violation]:
    """The violations among the calls that started in [start, end) and the call-takers'
    changes in that span (of `center` only, when given). `ranks`: queue class -> rank (lower
    is served first); by default ``emergency`` ranks above every other class. `twilio`:
    Twilio's records of the span by CallSid (rule 5 runs only with them), `our_numbers` the
    lines' numbers (a call to one of them at Twilio must have a record here). `now`: the
    time the records were read (a call-taker still on an ended call is measured to it)."""
    ranks = dict(ranks) if ranks is not None else {"emergency": 0}
    with engine.connect() as conn:
        calls = {r.sid: _Call(r.sid, r.queue_class, r.queued_at, r.ended_at, r.outcome)
                 for r in conn.execute(
                     select(calls_t.c.sid, calls_t.c.queue_class, calls_t.c.queued_at,
                            calls_t.c.ended_at, calls_t.c.outcome)
                     .where(calls_t.c.started_at >= start, calls_t.c.started_at < end))}
        sids = select(calls_t.c.sid).where(calls_t.c.started_at >= start,
                                           calls_t.c.started_at < end).scalar_subquery()
        for ev in conn.execute(select(events_t.c.call_sid, events_t.c.at, events_t.c.kind,
                                      events_t.c.data, events_t.c.detail)
                               .where(events_t.c.call_sid.in_(sids),
                                      events_t.c.kind.in_(RELEVANT))
                               .order_by(events_t.c.id)):
            c = calls[ev.call_sid]
            c.kinds.append((ev.at, ev.kind))
            c.details.append(ev.detail or "")
            if ev.kind == "enqueue" and ev.data:
                c.skills = frozenset(ev.data.get("skills") or ())
        # The state before the span matters (was the first offer made to someone available?).
        query = select(states_t).where(states_t.c.at >= start - timedelta(hours=24),
                                       states_t.c.at < end)
        if center is not None:
            query = query.where(states_t.c.center == center)
        states = list(conn.execute(query.order_by(states_t.c.seq)))
    out = final_states(calls.values())
    in_span = [s for s in states if s.at >= start]
    out += double_offers(states, start)
    out += busy_offers(states, in_span)
    out += priority(calls, in_span, states, ranks)
    if twilio is not None:
        out += twilio_final_states(calls, twilio, set(our_numbers), start, end)
    out += stuck_on_call(calls, in_span, now)
    out += offers_after_end(calls.values())
    out += ended_twice(calls.values())
    out += parked_unserved(calls.values(), now or end)
    return sorted(out, key=lambda v: (v.at or start, v.rule, v.calls))


# -- 5 to 9: fault damage ----------------------------------------------------------------------


def twilio_final_states(calls: Mapping[str, _Call], twilio: Mapping[str, TwilioCall],
                        our_numbers: set[str], start: datetime,
                        end: datetime) -> list[Violation]:
    out = []
    for c in calls.values():
        tw = twilio.get(c.sid)
        if tw is None:
            continue
        if c.outcome == "live" and tw.status not in LIVE_AT_TWILIO:
            out.append(Violation("twilio-final-state", f"live here, {tw.status} at Twilio",
                                 (c.sid,), at=tw.end))
        elif c.ended_at is not None and tw.status in LIVE_AT_TWILIO:
            out.append(Violation("twilio-final-state", f"ended here as {c.outcome}, still "
                                 f"{tw.status} at Twilio", (c.sid,), at=c.ended_at))
    for tw in twilio.values():
        if tw.sid not in calls and tw.inbound and tw.to in our_numbers and tw.start and \
                start <= tw.start < end:
            out.append(Violation("twilio-final-state", f"a call to {tw.to} that Twilio has "
                                 f"({tw.status}) has no record here", (tw.sid,), at=tw.start))
    return out


def stuck_on_call(calls: Mapping[str, _Call], in_span: list[AgentState],
                  until: datetime | None) -> list[Violation]:
    """Spans on a call that ended: closed ones, and (when `until`, the time the records were
    read, is known) those still open then."""
    out = []
    on: dict[str, AgentState] = {}
    ends: list[tuple[AgentState, datetime]] = []
    for s in in_span:
        current = on.pop(s.agent, None)
        if current is not None:
            ends.append((current, s.at))
        if s.state == "on_call" and s.call_sid:
            on[s.agent] = s
    if until is not None:
        ends += [(s, until) for s in on.values()]
    for s, left in ends:
        c = calls.get(s.call_sid or "")
        if c is None or c.ended_at is None or c.called_back:
            continue
        # Stuck from the call's end, or from going on it when that was later (an Accept of a
        # call already over, closed at once, held the call-taker for no time at all).
        since = max(c.ended_at, s.at)
        if left - since > STUCK:
            out.append(Violation(
                "on-call-without-call", f"on the call {(left - since).total_seconds():.0f}"
                " s after it ended", (c.sid,), agent=s.agent, at=since))
    return out


def offers_after_end(calls: Iterable[_Call]) -> list[Violation]:
    out = []
    for c in calls:
        if c.ended_at is None or c.called_back:
            continue
        late = [at for at, kind in c.kinds if kind == "offered" and at > c.ended_at + OFFER_SLACK]
        if late:
            out.append(Violation("offer-after-end", f"offered {len(late)} time(s) after it "
                                 "ended", (c.sid,), at=late[0]))
    return out


def ended_twice(calls: Iterable[_Call]) -> list[Violation]:
    out = []
    for c in calls:
        kinds = [kind for _at, kind in c.kinds]
        if kinds.count("ended") > kinds.count("bridged"):
            out.append(Violation("ended-twice", "ended more than once: "
                                 f"{kinds.count('ended')} link end(s) for "
                                 f"{kinds.count('bridged')} bridge(s)", (c.sid,),
                                 at=c.ended_at))
    return out


def parked_unserved(calls: Iterable[_Call], until: datetime) -> list[Violation]:
    out = []
    for c in calls:
        parked = [at for (at, kind), detail in zip(c.kinds, c.details, strict=True)
                  if kind == "safe-answer" and detail != "dial"]
        if not parked:
            continue
        served = [at for at, kind in c.kinds if kind in ("enqueue", "offered", "bridged")
                  and at >= parked[-1]]
        left = c.ended_at or until
        if not served and left - parked[-1] > PARKED:
            out.append(Violation("parked-unserved", "parked by the safe answer for "
                                 f"{(left - parked[-1]).total_seconds():.0f} s and never "
                                 "brought back in line", (c.sid,), at=parked[-1]))
    return out


# -- 1 ------------------------------------------------------------------------------------------


def final_states(calls: Iterable[_Call]) -> list[Violation]:
    out = []
    for c in calls:
        bridged = any(kind == "bridged" for _at, kind in c.kinds)
        at = c.ended_at or c.queued_at
        if c.ended_at is not None and c.outcome == "live":
            out.append(Violation("final-state", "the call ended with no final state", (c.sid,),
                                 at=at))
        elif c.queued_at is not None and c.outcome not in ENDINGS | {"live"}:
            out.append(Violation("final-state", f"a queued call ended as {c.outcome!r}, not "
                                 "answered, abandoned, transferred, voicemail or callback",
                                 (c.sid,), at=at))
        elif c.outcome == "answered" and not bridged:
            out.append(Violation("final-state", "answered, but never connected to a "
                                 "call-taker", (c.sid,), at=at))
        elif c.outcome == "abandoned" and bridged:
            out.append(Violation("final-state", "abandoned, but connected to a call-taker: two "
                                 "final states", (c.sid,), at=at))
        else:
            ends = [kind for _at, kind in c.kinds if kind in ("abandoned", "callback")]
            if len(ends) > 1 or (ends == ["abandoned"] and bridged):
                out.append(Violation("final-state", "recorded as ended twice: "
                                     + ", ".join([*ends, *(["bridged"] if bridged else [])]),
                                     (c.sid,), at=at))
    return out


# -- 2 and 4 ------------------------------------------------------------------------------------


@dataclass
class _Hold:
    agent: str
    call: str
    start: int
    at: datetime
    end: float = INF


def holds(states: Iterable[AgentState]) -> list[_Hold]:
    """Each span in which a call-taker held a call (offered, then on it), in seq order."""
    current: dict[str, _Hold] = {}
    out: list[_Hold] = []
    for s in states:
        held = current.get(s.agent)
        if s.state in HOLDING and s.call_sid:
            if held is not None and held.call == s.call_sid:
                continue
            if held is not None:
                held.end = s.seq
            current[s.agent] = h = _Hold(s.agent, s.call_sid, s.seq, s.at)
            out.append(h)
        elif s.state not in HOLDING and held is not None:
            held.end = s.seq
            del current[s.agent]
    return out


def double_offers(states: list[AgentState], start: datetime) -> list[Violation]:
    by_call: dict[str, list[_Hold]] = defaultdict(list)
    for h in holds(states):
        by_call[h.call].append(h)
    out = []
    for call, spans in by_call.items():
        spans.sort(key=lambda h: h.start)
        for earlier, later in zip(spans, spans[1:], strict=False):
            if later.start < earlier.end and later.agent != earlier.agent \
                    and later.at >= start:
                out.append(Violation(
                    "double-offer", f"offered to {later.agent} while {earlier.agent} held it",
                    (call,), agent=later.agent, at=later.at))
    return out


def busy_offers(states: list[AgentState], in_span: list[AgentState]) -> list[Violation]:
    previous: dict[int, AgentState] = {}
    last: dict[str, AgentState] = {}
    for s in states:
        if s.event == "offered" and s.agent in last:
            previous[s.id] = last[s.agent]
        last[s.agent] = s
    out = []
    for s in in_span:
        before = previous.get(s.id)
        if s.event != "offered" or before is None or before.state == "available":
            continue
        involved = tuple(x for x in (s.call_sid, before.call_sid) if x)
        out.append(Violation("reserved-while-busy",
                             f"offered a call while {before.state.replace('_', ' ')}",
                             involved, agent=s.agent, at=s.at))
    return out


# -- 3 ------------------------------------------------------------------------------------------


def _ts(at: datetime) -> float:
    return at.timestamp()


class Order:
    """One order for the call-takers' changes and the calls' time-stamped events.

    The changes are ordered by `seq`. Their times are not: a timeout is stamped with its
    deadline and an end of wrap-up with its due time, though the tick that made them ran up
    to a second later, after other changes. So a change's place in time is taken as the
    latest time stamped on it or on any change before it (it cannot have happened earlier),
    and an event known only by its time `t` goes between the changes so placed at or before
    `t` and those after.
    """

    def __init__(self, states: list[AgentState]) -> None:
        self.index: dict[int, float] = {}
        self.effective: list[float] = []
        latest = -INF
        for i, s in enumerate(states):
            latest = max(latest, _ts(s.at))
            self.effective.append(latest)
            self.index[s.id] = float(i)

    def of(self, s: AgentState) -> float:
        return self.index[s.id]

    def after(self, at: datetime) -> float:
        """Just after every change of the instant `at` (and before the next)."""
        return bisect_right(self.effective, _ts(at)) - 0.5

    def before(self, at: datetime) -> float:
        """Just before every change of the instant `at`."""
        return bisect_left(self.effective, _ts(at)) - 0.5


def waiting_spans(c: _Call, offers: list[AgentState], order: Order) -> list[tuple[float, float]]:
    """When call `c` was waiting (in line, offered to nobody), as places in `order`.

    Each mark has two places. One among the call's own marks: a call is offered after it
    joined the line and leaves after its last offer, even in the same instant. One for judging
    others, where an instant known only by its time gives the router the benefit of the
    doubt: the wait starts after every change of that instant and ends before any. A wait
    that shrinks to nothing that way is dropped.
    """
    marks: list[tuple[float, float, bool]] = []  # (own place, judging place, waiting after)
    for at, kind in c.kinds:  # own places: a millisecond's slack for clocks and rounding
        if kind == "enqueue" or kind in BACK_IN_LINE:
            marks.append((order.before(at - SLACK) - 0.25, order.after(at), True))
        elif kind in LEFT_LINE:
            marks.append((order.after(at + SLACK) + 0.25, order.before(at), False))
    for s in offers:
        place = order.of(s)
        if s.event in ("offered", "cancelled"):
            marks.append((place, place, False))
        elif s.event in ("rejected", "expired"):
            marks.append((place, place, True))
    if c.ended_at is not None:
        marks.append((order.after(c.ended_at + SLACK) + 0.25, order.before(c.ended_at),
                      False))
    marks.sort(key=lambda m: m[0])
    spans: list[tuple[float, float]] = []
    began: float | None = None
    for _own, place, waiting in marks:
        if waiting and began is None:
            began = place
        elif not waiting and began is not None:
            if began < place:
                spans.append((began, place))
            began = None
    if began is not None:
        spans.append((began, INF))
    return spans


def priority(calls: Mapping[str, _Call], in_span: list[AgentState], states: list[AgentState],
             ranks: Mapping[str, int]) -> list[Violation]:
    """A sweep over the offers in order, keeping the better-ranked calls waiting at each: the
    cost grows with offers times calls waiting at once, not times calls."""
    default = max(ranks.values(), default=0) + 1
    rank = {sid: ranks.get(c.queue_class or "", default) for sid, c in calls.items()}
    best = min(rank.values(), default=default)
    order = Order(states)
    offers_of: dict[str, list[AgentState]] = defaultdict(list)
    for s in states:
        if s.call_sid and s.event in ("offered", "rejected", "expired", "cancelled"):
            offers_of[s.call_sid].append(s)
    # Waits of calls that some other class ranks below: only those can be passed over.
    worst = max(rank.values(), default=default)
    spans = sorted(
        (a, b, c.sid)
        for c in calls.values() if c.queued_at is not None and rank[c.sid] < worst
        for a, b in waiting_spans(c, offers_of.get(c.sid, []), order))
    offered = sorted(((order.of(s), s) for s in in_span
                      if s.event == "offered" and s.call_sid in calls
                      and rank[s.call_sid] > best), key=lambda o: o[0])
    out = []
    active: list[tuple[float, float, str]] = []
    i = 0
    for place, s in offered:
        while i < len(spans) and spans[i][0] < place:
            active.append(spans[i])
            i += 1
        active = [w for w in active if w[1] > place]
        mine = rank[s.call_sid]  # type: ignore[index]
        skills = frozenset(s.skills or ())
        for _a, _b, sid in active:
            other = calls[sid]
            if rank[sid] < mine and other.skills <= skills:
                out.append(Violation(
                    "priority", f"a {calls[s.call_sid].queue_class} call was offered while a "  # type: ignore[index]
                    f"{other.queue_class} call this call-taker could take was waiting",
                    (s.call_sid, sid), agent=s.agent, at=s.at))  # type: ignore[arg-type]
    return out


def ranks_of(classes: Iterable[object]) -> dict[str, int]:
    """Queue class -> rank, from `queues.QueueClass` values."""
    return {str(c.name): int(c.rank) for c in classes}  # type: ignore[attr-defined]


def audit_services(svc: Services, start: datetime, end: datetime,
                   twilio: Mapping[str, TwilioCall] | None = None) -> list[Violation]:
    """`audit` for a running center: its call-takers' pending changes recorded first, its queue
    classes' ranks. What the demo, the load test and the chaos run call."""
    statelog.drain(svc.agents, svc.engine)
    ranks = ranks_of(svc.queues.classes.values())
    return audit(svc.engine, start, end, ranks, center=svc.settings.center, twilio=twilio,
                 our_numbers=svc.lines.numbers(), now=svc.clock())


def twilio_records(client: Any, start: datetime, end: datetime,
                   limit: int = 100_000) -> dict[str, TwilioCall]:
    """Twilio's records of the calls started in [start, end) (Calls resource, paged)."""
    out = {}
    for c in client.calls.list(start_time_after=start, start_time_before=end, page_size=1000,
                               limit=limit):
        out[c.sid] = TwilioCall(sid=c.sid, status=str(c.status), start=c.start_time,
                                end=c.end_time, to=str(c.to or ""),
                                inbound=str(c.direction or "").startswith("inbound"))
    return out
