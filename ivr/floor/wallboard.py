"""The live wallboard and ``/metrics``: what is happening now (Redis: calls waiting, call-takers
by state) beside what today did so far (SQL, through `ivr.floor.reports`, the same computation as
the reports, so the two agree).

`snapshot` gives one JSON-able dict; `prometheus` writes the same figures in Prometheus' text
exposition format (version 0.0.4). A short per-process cache keeps many open wallboards (and a
scraper) from recomputing the day more than once a second.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from agents.model import State
from ivr.calls.repairs import REPAIR_KINDS, Repair
from ivr.floor import charts, reports, statelog
from ivr.floor.reports import DayReport, Figures, ReportConfig
from ivr.services import Services

STATES = [s.value for s in State if s is not State.OFFLINE]
CACHE_SECONDS = 1.0


def report_config(svc: Services) -> ReportConfig:
    return ReportConfig.from_raw(svc.settings.raw, svc.settings.timezone)


def day_report(svc: Services, day: date) -> DayReport:
    """The report of a local day, the call-takers' latest changes recorded first."""
    statelog.drain(svc.agents, svc.engine)
    with svc.engine.connect() as conn:
        return reports.day_report(conn, day, report_config(svc), svc.settings.center)


def class_order(svc: Services) -> list[str]:
    """Queue classes, best-ranked first (911 before 311)."""
    ranks = {c.name: c.rank for c in svc.queues.classes.values()}
    return sorted(ranks, key=lambda name: (ranks[name], name))


def chart_points(report: DayReport, queue_class: str) -> list[charts.Point]:
    """The day's intervals of one class, from the first interval with a call to the last."""
    cfg = report.config
    targets = cfg.targets_of(queue_class)
    within = targets[0].within if targets else None
    points = []
    for (start, name), f in report.intervals.items():
        if name != queue_class:
            continue
        level = f.service_level(within) if within is not None else None
        points.append(charts.Point(start.strftime("%H:%M"), f.offered, f.answered, f.abandoned,
                                   level))
    return points


def compute(svc: Services, now: datetime) -> dict[str, Any]:
    """The wallboard now. Records the call-takers' pending state changes first."""
    statelog.drain(svc.agents, svc.engine)
    config = report_config(svc)
    day = reports.local_day(now, config.timezone)
    with svc.engine.connect() as conn:
        report = reports.day_report(conn, day, config, svc.settings.center)
    stats = svc.queues.stats(now.timestamp())
    presences = [p for p in svc.agents.all() if p.state is not State.OFFLINE]
    today = report.classes
    classes = []
    for name in class_order(svc):
        need = svc.agents.rules.class_skills.get(name, frozenset())
        states = Counter(p.state.value for p in presences if need <= p.skills)
        st = stats.get(name)
        figures = today.get(name, Figures())
        classes.append({
            "queue_class": name,
            "waiting": st.size if st else 0,
            "longest_wait_seconds": round(st.longest_wait, 1) if st else 0.0,
            "agents": {s: states.get(s, 0) for s in STATES},
            **figures.as_dict(config.targets_of(name)),
            "chart_svg": charts.day_chart(chart_points(report, name),
                                          f"{name}: today by {config.interval_minutes} minutes"),
        })
    return {"at": now.isoformat(), "day": day.isoformat(),
            "interval_minutes": config.interval_minutes, "classes": classes,
            "agents_logged_in": len(presences), "repairs": repairs_today(svc, day, config),
            "rollovers": report.rollovers.as_dict()}


def repairs_today(svc: Services, day: date, config: ReportConfig,
                  latest: int = 5) -> dict[str, Any]:
    """What the reconciler and the journal repaired today (`ivr.calls.repairs`): a count a
    kind and the latest few, so a supervisor sees that a fault happened and what it cost."""
    start, end = reports.day_span(day, config.timezone)
    table = Repair.__table__
    span = (table.c.at >= start, table.c.at < end)
    with svc.engine.connect() as conn:
        counts = dict(conn.execute(select(table.c.kind, func.count()).where(*span)
                                   .group_by(table.c.kind)).all())
        rows = conn.execute(select(table.c.at, table.c.kind, table.c.differed, table.c.done)
                            .where(*span).order_by(table.c.id.desc()).limit(latest)).all()
    return {"total": sum(counts.values()),
            "by_kind": {kind: int(counts.get(kind, 0)) for kind in REPAIR_KINDS},
            "latest": [{"at": r.at.isoformat(), "kind": r.kind, "differed": r.differed,
                        "done": r.done} for r in rows]}


_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def snapshot(svc: Services, now: datetime | None = None) -> dict[str, Any]:
    """`compute`, at most once per `CACHE_SECONDS` per center and process unless a call-taker's
    state changed meanwhile (a given `now`, as tests pass, always computes afresh)."""
    if now is not None:
        return compute(svc, now)
    # Any presence change (the agents' event counter moved) makes the cached board stale.
    changes = svc.redis.hget(svc.agents.keys.seq, "event")
    key = f"{svc.settings.center}|{id(svc)}|{changes!r}"
    with _lock:
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = compute(svc, svc.clock())
    with _lock:
        for old in [k for k in _cache if k.startswith(f"{svc.settings.center}|{id(svc)}|")]:
            del _cache[old]
        _cache[key] = (time.monotonic(), value)
    return value


# -- Prometheus -------------------------------------------------------------------------------


def _labels(**labels: str) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


METRICS: list[tuple[str, str, str]] = [
    # name, help, key in a class's figures
    ("ivr_calls_waiting", "Calls waiting now.", "waiting"),
    ("ivr_longest_wait_seconds", "Longest wait among the calls waiting now.",
     "longest_wait_seconds"),
    ("ivr_calls_offered_today", "Calls that entered the queue today (center's time zone).",
     "offered"),
    ("ivr_calls_answered_today", "Calls answered today.", "answered"),
    ("ivr_calls_abandoned_today", "Calls abandoned today.", "abandoned"),
    ("ivr_transfers_today", "Calls transferred (to dispatch) today.", "transfers"),
    ("ivr_asa_seconds_today", "Average speed of answer today (NaN before any answer).",
     "asa_seconds"),
    ("ivr_abandon_rate_today", "Abandoned / offered today (NaN before any call).",
     "abandon_rate"),
]


def prometheus(board: dict[str, Any]) -> str:
    """The wallboard in Prometheus' text format. All gauges: "today" figures restart at the
    center's midnight, which a counter may not do."""
    lines: list[str] = []
    for name, help_text, key in METRICS:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for c in board["classes"]:
            value = c[key]
            lines.append(f"{name}{_labels(queue_class=c['queue_class'])} "
                         f"{_number(math.nan if value is None else value)}")
    lines += ["# HELP ivr_service_level_today Share of calls answered within the target today "
              "(answered within / answered + abandoned; NaN before any).",
              "# TYPE ivr_service_level_today gauge"]
    for c in board["classes"]:
        for level in c["service_levels"]:
            value = math.nan if level["value"] is None else level["value"]
            lines.append(f"ivr_service_level_today"
                         f"{_labels(queue_class=c['queue_class'], within=_number(level['within']))}"
                         f" {_number(value)}")
    lines += ["# HELP ivr_agents Call-takers able to take the class's calls, by state.",
              "# TYPE ivr_agents gauge"]
    for c in board["classes"]:
        for state, n in c["agents"].items():
            lines.append(f"ivr_agents{_labels(queue_class=c['queue_class'], state=state)} {n}")
    lines += ["# HELP ivr_repairs_today Differences with Twilio repaired today, by kind "
              "(the reconciler and the outage journal).", "# TYPE ivr_repairs_today gauge"]
    for kind, n in board.get("repairs", {}).get("by_kind", {}).items():
        lines.append(f"ivr_repairs_today{_labels(kind=kind)} {n}")
    rolled = board.get("rollovers") or {}
    lines += ["# HELP ivr_rollovers_today Calls rolled over to an alternate PSAP today, by "
              "reason.", "# TYPE ivr_rollovers_today gauge"]
    for reason, n in (rolled.get("by_reason") or {}).items():
        lines.append(f"ivr_rollovers_today{_labels(reason=reason)} {n}")
    lines += ["# HELP ivr_rollovers_answered_today Rollovers the alternate PSAP answered today.",
              "# TYPE ivr_rollovers_answered_today gauge",
              f"ivr_rollovers_answered_today {rolled.get('answered', 0)}",
              "# HELP ivr_rollover_answer_seconds_today Mean seconds from a rollover to the "
              "alternate PSAP's answer today (NaN before any).",
              "# TYPE ivr_rollover_answer_seconds_today gauge",
              "ivr_rollover_answer_seconds_today "
              + _number(math.nan if rolled.get("answer_seconds_mean") is None
                        else rolled["answer_seconds_mean"])]
    return "\n".join(lines) + "\n"
