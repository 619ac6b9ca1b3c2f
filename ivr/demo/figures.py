"""The figures of a demo day, from the SQL records through `ivr.floor.reports` (the same computation
as the wallboard and the reports, so they agree), as text and as a chart."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from ivr.floor import reports
from ivr.floor.pngchart import Interval, day_chart

CLASS_NAMES = {"emergency": "911", "general": "311"}


def targets(raw: Mapping[str, object], timezone: str) -> reports.ReportConfig:
    return reports.ReportConfig.from_raw(raw, timezone)


def class_lines(calls: Sequence[reports.CallFacts], config: reports.ReportConfig) -> list[str]:
    """One line per queue class: offered, answered, abandoned, ASA, longest wait, levels."""
    out = [f"{'queue':<16}{'offered':>8}{'answered':>9}{'abandoned':>10}{'voicemail':>10}"
           f"{'ASA s':>8}{'longest s':>10}  service level"]
    for name, f in sorted(reports.by_class(calls).items()):
        levels = ", ".join(
            f"{_pct(f.service_level(t.within))} in {t.within:g} s (goal {t.goal:g}%)"
            for t in config.targets_of(name)) or "-"
        asa = f"{f.asa:.1f}" if f.asa is not None else "-"
        label = f"{name} ({CLASS_NAMES[name]})" if name in CLASS_NAMES else name
        out.append(f"{label:<16}{f.offered:>8}{f.answered:>9}{f.abandoned:>10}{f.voicemail:>10}"
                   f"{asa:>8}{f.longest_wait:>10.0f}  {levels}")
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def intervals(calls: Sequence[reports.CallFacts], config: reports.ReportConfig,
              start: datetime, end: datetime) -> list[Interval]:
    """Every interval of [start, end) with all classes together; the service level counts
    each call against its own class's first target."""
    per = reports.by_interval(calls, config.interval_minutes, config.timezone)
    grouped: dict[datetime, list[tuple[str, reports.Figures]]] = defaultdict(list)
    for (begin, name), f in per.items():
        grouped[begin].append((name, f))
    step = config.interval_minutes * 60
    first = reports.interval_start(start, config.interval_minutes, config.timezone)
    out = []
    t = first
    while t < end:
        answered = abandoned = other = within = judged = 0
        for name, f in grouped.get(t, ()):
            answered += f.answered
            abandoned += f.abandoned
            other += f.offered - f.answered - f.abandoned
            goal = config.targets_of(name)
            if goal:
                within += sum(1 for w in f.answer_waits if w <= goal[0].within)
                judged += f.answered + f.abandoned
        out.append(Interval(f"{t:%H:%M}", answered, abandoned, max(other, 0),
                            within / judged if judged else None))
        t = datetime.fromtimestamp(t.timestamp() + step, t.tzinfo)
    return out


def chart(calls: Sequence[reports.CallFacts], config: reports.ReportConfig, start: datetime,
          end: datetime, title: str) -> bytes:
    return day_chart(intervals(calls, config, start, end), title)


def spread(values: Sequence[float]) -> str:
    """median / p99 / max of some seconds, for a line of text."""
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"median {statistics.median(ordered):.1f} s, p99 {p99:.1f} s, "
            f"max {ordered[-1]:.1f} s")
