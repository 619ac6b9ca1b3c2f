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
LEFT_LINE = ("abandoned", "callback", "queue-voicemail", "queue-overflow", "caller-gone",
             "bridged")
RELEVANT = ("enqueue", "bridged", *BACK_IN_LINE, *LEFT_LINE)
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


@dataclass
class _Call:
    sid: str
    queue_class: str | None
    queued_at: datetime | None
    ended_at: datetime | None
    outcome: str
    skills: frozenset[str] = frozenset()
    kinds: list[tuple[datetime, str]] = field(default_factory=list)


def audit(engine: Engine, start: datetime, end: datetime,
          ranks: Mapping[str, int] | None = None, center: str | None = None) -> list[Violation]:
    """The violations among the calls that started in [start, end) and the call-takers'
    changes in that span (of `center` only, when given). `ranks`: queue class -> rank (lower
    is served first); by default ``emergency`` ranks above every other class."""
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
                                      events_t.c.data)
                               .where(events_t.c.call_sid.in_(sids),
                                      events_t.c.kind.in_(RELEVANT))
                               .order_by(events_t.c.id)):
            c = calls[ev.call_sid]
            c.kinds.append((ev.at, ev.kind))
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
    return sorted(out, key=lambda v: (v.at or start, v.rule, v.calls))


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


def audit_services(svc: Services, start: datetime, end: datetime) -> list[Violation]:
    """`audit` for a running center: its call-takers' pending changes recorded first, its queue
    classes' ranks. What the demo and the load test call."""
    statelog.drain(svc.agents, svc.engine)
    ranks = ranks_of(svc.queues.classes.values())
    return audit(svc.engine, start, end, ranks,
                 center=svc.settings.center)
