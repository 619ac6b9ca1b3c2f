"""The floor's figures for a span of time, from the SQL records only: the one computation behind
the wallboard, ``/metrics``, the interval and daily reports and their CSV, so they all agree.

Definitions (per queue class, per call-taker, per interval):

* offered: calls that entered the queue in the span (by the time they entered);
* answered: of those, calls a call-taker was connected to (a ``bridged`` event);
* abandoned: calls whose outcome is ``abandoned`` (hung up while waiting or while being put
  through); callbacks and voicemails left the line by choice and count as neither;
* wait: the recorded wait (``calls.wait_seconds``: until a call-taker took it, or the caller
  left); ASA is the mean wait of answered calls;
* service level within T: answered within T seconds / (answered + abandoned), None without
  any such call (NENA counts every call presented; the same denominator is used for 311);
* handle time: talk (``ended`` events) plus the wrap-up the call-taker's state history shows;
* transfers: calls whose outcome is ``transferred`` (issue 5 records transfers to dispatch);
* rollovers (`Rollovers`, from the calls' ``rollover`` events, by the time they rolled): calls
  put through to an alternate PSAP, by reason and center; answered there, with the seconds from
  the rollover to that answer and from the caller's arrival in line to it; failed attempts by
  what the line did (the caller then back in line at the front).

Per call-taker, offered counts offers made to them, missed the offers rejected or left to
expire, abandoned the callers who hung up while offered to them or being put through to them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from ivr.calls.models import Call, CallEvent
from ivr.floor.models import AgentState

calls_t = Call.__table__
events_t = CallEvent.__table__
states_t = AgentState.__table__

EVENT_KINDS = ("bridged", "ended", "offered", "rejected", "expired", "offer-cancelled",
               "caller-gone")


@dataclass(frozen=True)
class Target:
    """A service-level target: `goal` percent of calls answered within `within` seconds."""

    within: float
    goal: float

    @property
    def label(self) -> str:
        return f"{self.goal:g}% in {self.within:g} s"


@dataclass
class CallFacts:
    """What the records say about one queued call."""

    sid: str
    queue_class: str
    queued_at: datetime
    outcome: str
    wait: float | None
    agent: str | None = None  # who was connected to it (the last one, after a failed leg)
    talk: float = 0.0
    wrap: float = 0.0
    offered_to: list[str] = field(default_factory=list)
    missed_by: list[str] = field(default_factory=list)
    lost_by: list[str] = field(default_factory=list)  # caller hung up during their offer

    @property
    def answered(self) -> bool:
        return self.agent is not None

    @property
    def handle(self) -> float | None:
        return self.talk + self.wrap if self.answered else None


@dataclass
class Figures:
    """The figures of one group of calls (a class, a call-taker, an interval)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    transfers: int = 0
    callbacks: int = 0
    voicemail: int = 0
    missed: int = 0
    answer_waits: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    handles: list[float] = field(default_factory=list)

    def service_level(self, within: float) -> float | None:
        judged = self.answered + self.abandoned
        if not judged:
            return None
        return sum(1 for w in self.answer_waits if w <= within) / judged

    @property
    def asa(self) -> float | None:
        return _mean(self.answer_waits)

    @property
    def average_wait(self) -> float | None:
        return _mean(self.waits)

    @property
    def longest_wait(self) -> float:
        return max(self.waits, default=0.0)

    @property
    def aht(self) -> float | None:
        return _mean(self.handles)

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    def as_dict(self, targets: Sequence[Target] = ()) -> dict[str, Any]:
        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "transfers": self.transfers, "callbacks": self.callbacks,
            "voicemail": self.voicemail, "missed": self.missed,
            "asa_seconds": _round(self.asa), "average_wait_seconds": _round(self.average_wait),
            "longest_wait_seconds": round(self.longest_wait, 1), "aht_seconds": _round(self.aht),
            "abandon_rate": _round(self.abandon_rate, 4),
            "service_levels": [
                {"within": t.within, "goal": t.goal, "label": t.label,
                 "value": _round(self.service_level(t.within), 4)} for t in targets
            ],
        }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def add_call(f: Figures, c: CallFacts) -> None:
    f.offered += 1
    if c.answered:
        f.answered += 1
        if c.wait is not None:
            f.answer_waits.append(c.wait)
        if c.handle is not None:
            f.handles.append(c.handle)
    if c.outcome == "abandoned":
        f.abandoned += 1
    elif c.outcome == "transferred":
        f.transfers += 1
    elif c.outcome == "callback":
        f.callbacks += 1
    elif c.outcome == "voicemail":
        f.voicemail += 1
    if c.wait is not None:
        f.waits.append(c.wait)


# -- the span of a day --------------------------------------------------------------------------


def day_span(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of `day` in the center's time zone, in UTC."""
    tz = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


# -- loading ------------------------------------------------------------------------------------


def load_calls(conn: Connection, start: datetime, end: datetime,
               center: str | None = None) -> list[CallFacts]:
    """The calls that entered a queue in [start, end), with what their events and the
    call-takers' state history say about them. Four queries, whatever the volume."""
    in_span = (calls_t.c.queued_at >= start) & (calls_t.c.queued_at < end)
    facts: dict[str, CallFacts] = {}
    for row in conn.execute(select(calls_t.c.sid, calls_t.c.queue_class, calls_t.c.queued_at,
                                   calls_t.c.outcome, calls_t.c.wait_seconds).where(in_span)):
        facts[row.sid] = CallFacts(row.sid, row.queue_class or "", row.queued_at, row.outcome,
                                   row.wait_seconds)
    if not facts:
        return []
    sids = select(calls_t.c.sid).where(in_span).scalar_subquery()
    # Only the talk time needs an event's JSON; the others name their call-taker in `detail`
    # (decoding thousands of JSON values would be most of the cost).
    for ev in conn.execute(select(events_t.c.call_sid, events_t.c.data)
                           .where(events_t.c.call_sid.in_(sids), events_t.c.kind == "ended")):
        facts[ev.call_sid].talk += float((ev.data or {}).get("talk") or 0.0)
    events = conn.execute(
        select(events_t.c.call_sid, events_t.c.kind, events_t.c.detail)
        .where(events_t.c.call_sid.in_(sids), events_t.c.kind.in_(EVENT_KINDS),
               events_t.c.kind != "ended")
        .order_by(events_t.c.id))
    for ev in events:
        c = facts[ev.call_sid]
        agent = str(ev.detail or "")
        if ev.kind == "bridged":
            c.agent = agent
        elif ev.kind == "offered":
            c.offered_to.append(agent)
        elif ev.kind in ("rejected", "expired"):
            c.missed_by.append(agent)
        elif ev.kind in ("offer-cancelled", "caller-gone"):
            c.lost_by.append(agent)
    for sid, wrap in wrap_ups(conn, start, end + timedelta(hours=2), center).items():
        if sid in facts:
            facts[sid].wrap += wrap
    return sorted(facts.values(), key=lambda c: (c.queued_at, c.sid))


def wrap_ups(conn: Connection, start: datetime, end: datetime,
             center: str | None = None) -> dict[str, float]:
    """Seconds of wrap-up after each call, from the call-takers' state history: from the
    ``end_call`` change into wrap-up to the call-taker's next change."""
    query = select(states_t.c.agent, states_t.c.at, states_t.c.event, states_t.c.state,
                   states_t.c.call_sid).where(states_t.c.at >= start, states_t.c.at < end)
    if center is not None:
        query = query.where(states_t.c.center == center)
    rows = conn.execute(query.order_by(states_t.c.agent, states_t.c.seq))
    out: dict[str, float] = defaultdict(float)
    open_wrap: dict[str, tuple[str, datetime]] = {}
    for r in rows:
        if r.event == "break_pending" or r.event == "break_cancelled":
            continue  # still in wrap-up
        began = open_wrap.pop(r.agent, None)
        if began is not None:
            out[began[0]] += (r.at - began[1]).total_seconds()
        if r.event == "end_call" and r.state == "wrap_up" and r.call_sid:
            open_wrap[r.agent] = (r.call_sid, r.at)
    return dict(out)


# -- rollovers to an alternate PSAP ----------------------------------------------------------


@dataclass
class Rollovers:
    """The rollovers of a span (see the module docstring)."""

    started: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_center: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    abandoned: int = 0
    answer_seconds: list[float] = field(default_factory=list)  # rollover -> answered there
    caller_seconds: list[float] = field(default_factory=list)  # in line -> answered there

    @property
    def in_progress(self) -> int:
        """Rollovers still ringing (or talking, unanswered-yet) at the other PSAP."""
        return max(0, self.started - self.answered - sum(self.failed.values()) - self.abandoned)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started, "in_progress": self.in_progress,
            "by_reason": dict(sorted(self.by_reason.items())),
            "by_center": dict(sorted(self.by_center.items())), "answered": self.answered,
            "failed": dict(sorted(self.failed.items())), "abandoned": self.abandoned,
            "answer_seconds_mean": _round(_mean(self.answer_seconds)),
            "answer_seconds_max": _round(max(self.answer_seconds, default=None)),
            "caller_wait_to_answer_seconds_mean": _round(_mean(self.caller_seconds)),
        }


ROLLOVER_KINDS = ("rollover", "rollover-answered", "rollover-failed",
                  "abandoned-during-transfer")


def load_rollovers(conn: Connection, start: datetime, end: datetime) -> Rollovers:
    """The rollovers begun in [start, end) and what became of them (one query)."""
    out = Rollovers()
    by_reason: Counter[str] = Counter()
    by_center: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    ours: set[str] = set()
    rows = conn.execute(
        select(events_t.c.kind, events_t.c.detail, events_t.c.data, events_t.c.at,
               calls_t.c.queued_at)
        .join(calls_t, calls_t.c.sid == events_t.c.call_sid)
        .where(events_t.c.kind.in_(ROLLOVER_KINDS), events_t.c.at >= start,
               events_t.c.at < end + timedelta(hours=2))
        .order_by(events_t.c.id))
    for r in rows:
        data = r.data or {}
        transfer = str(data.get("transfer") or "")
        if r.kind == "rollover":
            if r.at >= end:
                continue
            ours.add(transfer)
            out.started += 1
            by_reason[str(data.get("reason") or "")] += 1
            by_center[str(data.get("center") or "")] += 1
        elif transfer not in ours:
            continue
        elif r.kind == "rollover-answered":
            out.answered += 1
            out.answer_seconds.append(float(data.get("answer") or 0.0))
            if r.queued_at is not None:
                out.caller_seconds.append(max(0.0, (r.at - r.queued_at).total_seconds()))
        elif r.kind == "rollover-failed":
            failed[str(r.detail or "failed")] += 1
        else:
            out.abandoned += 1
    out.by_reason, out.by_center, out.failed = dict(by_reason), dict(by_center), dict(failed)
    return out


# -- grouping -----------------------------------------------------------------------------------


def by_class(calls: Iterable[CallFacts]) -> dict[str, Figures]:
    out: dict[str, Figures] = defaultdict(Figures)
    for c in calls:
        add_call(out[c.queue_class], c)
    return dict(out)


def by_agent(calls: Iterable[CallFacts]) -> dict[str, Figures]:
    out: dict[str, Figures] = defaultdict(Figures)
    for c in calls:
        for agent in c.offered_to:
            out[agent].offered += 1
        for agent in c.missed_by:
            out[agent].missed += 1
        for agent in c.lost_by:
            out[agent].abandoned += 1
        if c.agent is not None:
            f = out[c.agent]
            f.answered += 1
            if c.wait is not None:
                f.answer_waits.append(c.wait)
                f.waits.append(c.wait)
            if c.handle is not None:
                f.handles.append(c.handle)
            if c.outcome == "transferred":
                f.transfers += 1
    return dict(sorted(out.items()))


def interval_start(at: datetime, minutes: int, timezone: str) -> datetime:
    local = at.astimezone(ZoneInfo(timezone))
    floored = local.replace(minute=local.minute - local.minute % minutes, second=0,
                            microsecond=0)
    return floored


def by_interval(calls: Iterable[CallFacts], minutes: int,
                timezone: str) -> dict[tuple[datetime, str], Figures]:
    """Figures per (local start of the interval, queue class)."""
    out: dict[tuple[datetime, str], Figures] = defaultdict(Figures)
    for c in calls:
        add_call(out[(interval_start(c.queued_at, minutes, timezone), c.queue_class)], c)
    return dict(sorted(out.items()))


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportConfig:
    """`reports:` in config: the interval length and each class's service-level targets."""

    interval_minutes: int
    targets: Mapping[str, tuple[Target, ...]]
    timezone: str

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], timezone: str) -> ReportConfig:
        spec = raw.get("reports") or {}
        minutes = int(spec.get("interval_minutes", 15))
        if minutes < 1 or 60 % minutes:
            raise ValueError("reports.interval_minutes must divide an hour (5, 10, 15, 30, 60)")
        targets = {
            str(name): tuple(Target(float(t["within"]), float(t["goal"])) for t in items or ())
            for name, items in (spec.get("service_levels") or {}).items()
        }
        return cls(minutes, targets, timezone)

    def targets_of(self, queue_class: str) -> tuple[Target, ...]:
        return self.targets.get(queue_class, ())


@dataclass
class DayReport:
    """Everything the reports show for one day."""

    day: date
    config: ReportConfig
    calls: list[CallFacts]
    rollovers: Rollovers = field(default_factory=Rollovers)

    @property
    def classes(self) -> dict[str, Figures]:
        return by_class(self.calls)

    @property
    def agents(self) -> dict[str, Figures]:
        return by_agent(self.calls)

    @property
    def intervals(self) -> dict[tuple[datetime, str], Figures]:
        return by_interval(self.calls, self.config.interval_minutes, self.config.timezone)

    def as_dict(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "day": self.day.isoformat(),
            "interval_minutes": cfg.interval_minutes,
            "classes": {name: f.as_dict(cfg.targets_of(name))
                        for name, f in sorted(self.classes.items())},
            "agents": {name: f.as_dict() for name, f in self.agents.items()},
            "intervals": [
                {"start": start.isoformat(), "queue_class": name,
                 **f.as_dict(cfg.targets_of(name))}
                for (start, name), f in self.intervals.items()
            ],
            "rollovers": self.rollovers.as_dict(),
        }


def day_report(conn: Connection, day: date, config: ReportConfig,
               center: str | None = None) -> DayReport:
    start, end = day_span(day, config.timezone)
    return DayReport(day, config, load_calls(conn, start, end, center),
                     load_rollovers(conn, start, end))


# -- staffing as it was -------------------------------------------------------------------------

ON_DUTY = frozenset({"available", "reserved", "on_call", "wrap_up"})


def on_duty_average(conn: Connection, start: datetime, end: datetime,
                    need: frozenset[str], center: str | None = None) -> float:
    """The mean number of call-takers on duty (available, offered, on a call or in wrap-up)
    with every skill in `need`, over [start, end), from their state history."""
    span = (end - start).total_seconds()
    if span <= 0:
        return 0.0
    query = select(states_t.c.agent, states_t.c.at, states_t.c.state, states_t.c.skills) \
        .where(states_t.c.at < end)
    if center is not None:
        query = query.where(states_t.c.center == center)
    rows = conn.execute(query.order_by(states_t.c.seq))
    counted: dict[str, bool] = {}
    count, since, area = 0, start, 0.0
    for r in rows:
        at = max(r.at, start)
        area += count * (at - since).total_seconds()
        since = at
        now = r.state in ON_DUTY and need <= frozenset(r.skills or ())
        if now != counted.get(r.agent, False):
            count += 1 if now else -1
            counted[r.agent] = now
    area += count * (end - since).total_seconds()
    return area / span
