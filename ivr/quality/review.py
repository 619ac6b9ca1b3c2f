"""Quality review over the SQL records: the period's calls and their sample, the review form's
answers, and the results per call-taker and period (the reports and their CSV).

A call belongs to the period in which it started (the center's time zone). Its call-taker is
the last one it was connected to (a ``bridged`` event); its kinds come from its transfers (by
mode) and from a ``rollover`` event or outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, column, insert, select, table
from sqlalchemy.exc import IntegrityError

from ivr.calls.models import Call, CallEvent
from ivr.quality.config import QualityConfig
from ivr.quality.models import Recording, Review
from ivr.quality.sampling import AgentSample, Handled, Pick, draw, period_start

calls_t = Call.__table__
events_t = CallEvent.__table__
reviews_t = Review.__table__
recordings_t = Recording.__table__
# The transfers room's table, read here by name only (that room sits above this one).
transfers_t = table("transfers", column("call_sid"), column("mode"))


class ReviewError(Exception):
    """A review that cannot be recorded; `status` and `code` for the API, a sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Period:
    """One period's sample and reviews."""

    start: date
    days: int
    picks: list[Pick]
    shares: dict[str, AgentSample]
    reviews: dict[str, dict[str, Any]]  # call sid -> its review
    recorded: dict[str, str]  # call sid -> the sid of its playable recording

    @property
    def label(self) -> str:
        if self.days == 1:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {(self.start + timedelta(days=self.days - 1))}"

    def results(self) -> list[dict[str, Any]]:
        """Per call-taker: calls, the sample's size, what was reviewed and its mean score."""
        scored: dict[str, list[float]] = defaultdict(list)
        for r in self.reviews.values():
            scored[r["agent"]].append(r["score"])
        rows = []
        for agent, share in sorted(self.shares.items()):
            marks = scored.get(agent, [])
            rows.append({
                "period": self.start.isoformat(), "agent": agent or "(no call-taker)",
                "calls": share.calls, "required": share.required,
                "sampled": len(share.sampled), "always": len(share.kinds),
                "picked": share.picked, "reviewed": len(marks),
                "average_score": round(sum(marks) / len(marks), 1) if marks else None,
            })
        return rows


def span(start: date, days: int, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    first = datetime(start.year, start.month, start.day, tzinfo=tz)
    end = first + timedelta(days=days)
    end = datetime(end.year, end.month, end.day, tzinfo=tz)
    return first.astimezone(UTC), end.astimezone(UTC)


def handled_calls(conn: Connection, start: datetime, end: datetime) -> list[Handled]:
    """The calls started in [start, end) that a call-taker was connected to or that are of a
    reviewable kind, each with its call-taker and kinds."""
    in_span = (calls_t.c.started_at >= start) & (calls_t.c.started_at < end)
    sids = select(calls_t.c.sid).where(in_span).scalar_subquery()
    agent: dict[str, str] = {}
    for ev in conn.execute(select(events_t.c.call_sid, events_t.c.detail).where(
            events_t.c.call_sid.in_(sids), events_t.c.kind == "bridged")
            .order_by(events_t.c.id)):
        agent[ev.call_sid] = str(ev.detail or "")
    kinds: dict[str, set[str]] = defaultdict(set)
    for t in conn.execute(select(transfers_t.c.call_sid, transfers_t.c.mode)
                          .where(transfers_t.c.call_sid.in_(sids))):
        kinds[t.call_sid].add(f"transfer:{t.mode}")
    for ev in conn.execute(select(events_t.c.call_sid).where(
            events_t.c.call_sid.in_(sids), events_t.c.kind == "rollover")):
        kinds[ev.call_sid].add("rollover")
    out = []
    for row in conn.execute(select(calls_t.c.sid, calls_t.c.outcome).where(in_span)
                            .order_by(calls_t.c.started_at, calls_t.c.sid)):
        found = set(kinds.get(row.sid, ()))
        if row.outcome == "rollover":
            found.add("rollover")
        if row.sid in agent or found:
            out.append(Handled(row.sid, agent.get(row.sid, ""), frozenset(found)))
    return out


def period(engine: Engine, config: QualityConfig, day: date, timezone: str) -> Period:
    """The period holding `day`: its calls, sample, reviews and recordings."""
    first = period_start(day, config.period_days)
    start, end = span(first, config.period_days, timezone)
    with engine.connect() as conn:
        calls = handled_calls(conn, start, end)
        picks, shares = draw(calls, config.sample_percent, config.seed, first, config.always)
        sids = [c.sid for c in calls]
        reviews = {r.call_sid: dict(r._mapping) for r in conn.execute(
            select(reviews_t).where(reviews_t.c.period == first.isoformat()))}
        recorded = {}
        for r in conn.execute(select(recordings_t.c.call_sid, recordings_t.c.sid).where(
                recordings_t.c.call_sid.in_(sids), recordings_t.c.status == "completed")
                .order_by(recordings_t.c.started_at)):
            recorded[r.call_sid] = r.sid
    return Period(first, config.period_days, picks, shares, reviews, recorded)


def periods(engine: Engine, config: QualityConfig, first: date, last: date,
            timezone: str) -> list[Period]:
    """Every period from the one holding `first` to the one holding `last`."""
    out, day = [], period_start(first, config.period_days)
    while day <= last:
        out.append(period(engine, config, day, timezone))
        day += timedelta(days=config.period_days)
    return out


def scores_of(config: QualityConfig, given: Mapping[str, Any]) -> dict[str, int]:
    """The form's answers checked: one whole score per question, 0 to its max."""
    out = {}
    for q in config.questions:
        raw = given.get(q.id)
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise ReviewError(400, "invalid_score",
                              f"question {q.id!r} needs a score from 0 to {q.max}") from None
        if not 0 <= value <= q.max:
            raise ReviewError(400, "invalid_score",
                              f"question {q.id!r} needs a score from 0 to {q.max}")
        out[q.id] = value
    unknown = sorted(set(given) - {q.id for q in config.questions})
    if unknown:
        raise ReviewError(400, "unknown_question", f"the form has no question {unknown[0]!r}")
    return out


def submit(engine: Engine, config: QualityConfig, timezone: str, call_sid: str, reviewer: str,
           given: Mapping[str, Any], comment: str, now: datetime) -> dict[str, Any]:
    """Record the review of one call of the sample (one review per call)."""
    scores = scores_of(config, given)
    with engine.connect() as conn:
        started = conn.execute(select(calls_t.c.started_at).where(calls_t.c.sid == call_sid)) \
            .scalar()
    if started is None:
        raise ReviewError(404, "no_such_call", "there is no such call")
    found = period(engine, config, local_date(started, timezone), timezone)
    pick = next((p for p in found.picks if p.sid == call_sid), None)
    if pick is None:
        raise ReviewError(409, "not_sampled", "this call is not in its period's review sample")
    row = {"call_sid": call_sid, "agent": pick.agent, "reviewer": reviewer, "at": now,
           "period": found.start.isoformat(), "reason": pick.reasons[0], "scores": scores,
           "score": round(100.0 * sum(scores.values()) / config.max_score, 1),
           "comment": comment.strip()[:2000]}
    try:
        with engine.begin() as conn:
            conn.execute(insert(reviews_t).values(**row))
    except IntegrityError:
        raise ReviewError(409, "already_reviewed", "this call has been reviewed already") \
            from None
    return {**row, "at": now.isoformat()}


CSV_HEADER = ["period", "agent", "calls", "required", "sampled", "always", "picked",
              "reviewed", "average_score"]


def csv_rows(found: list[Period]) -> list[list[Any]]:
    return [["" if r[k] is None else r[k] for k in CSV_HEADER]
            for p in found for r in p.results()]


def local_date(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()
