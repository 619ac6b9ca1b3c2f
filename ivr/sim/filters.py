"""The filters of Twilio's list resources, as the emulator applies them (pure: no state).

Twilio documents the date filters of `Calls.json` (`StartTime`, `EndTime`) and
`Conferences.json` (`DateCreated`, `DateUpdated`) as dates, ``YYYY-MM-DD`` in UTC, with an
inequality in the name: ``StartTime>=2026-12-07`` reaches the server as the parameter
``StartTime>`` (on or after 00:00 of that day) and ``StartTime<=...`` as ``StartTime<``
(before 00:00 of that day); ``StartTime`` alone is that whole day. twilio-python sends a
``date`` or a ``datetime`` as ``YYYY-MM-DDTHH:MM:SSZ`` (a date as its midnight); the emulator
compares that form at its instant (Twilio documents no finer grain than the day: code should
not rely on one), and takes a midnight given to ``StartTime`` alone as its day.

Anything else is refused with a `FilterError` naming the parameter: a filter the emulator
does not model must fail loudly, never be ignored (an ignored filter answers a superset, and a
reconciler built on it would look right here and be wrong against Twilio).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# Paging parameters every list takes (`PageToken` is Twilio's own cursor; the emulator's
# next_page_uri uses `Page`, and a token it never issued is refused).
PAGING = frozenset({"PageSize", "Page"})

CALL_STATUSES = frozenset({"queued", "ringing", "in-progress", "canceled", "completed",
                           "failed", "busy", "no-answer"})
CONFERENCE_STATUSES = frozenset({"init", "in-progress", "completed"})

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class FilterError(ValueError):
    """A list request the emulator cannot answer as Twilio would (HTTP 400)."""


def parse_when(name: str, value: str) -> datetime | date:
    """A filter's value: a UTC day (``YYYY-MM-DD``) or an instant (``...THH:MM:SSZ``)."""
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif _INSTANT.fullmatch(value):
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            pass
    raise FilterError(f"{name}={value!r}: give a date as YYYY-MM-DD (UTC), as Twilio documents, "
                      "or an instant as YYYY-MM-DDTHH:MM:SSZ")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC; None on a side: unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, t: datetime | None) -> bool:
        """Whether `t` is in the window; a time that does not exist (a call not ended) never is."""
        if t is None:
            return False
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)


def window(args: Mapping[str, str], field: str) -> Window | None:
    """The window `field`, `field>` and `field<` describe together; None when none is given."""
    on, after, before = args.get(field), args.get(field + ">"), args.get(field + "<")
    if on is None and after is None and before is None:
        return None
    start: datetime | None = None
    end: datetime | None = None
    if on is not None:
        when = parse_when(field, on)
        if isinstance(when, datetime):
            # twilio-python sends a date as its midnight; any other instant names no day.
            if when.time() != datetime.min.time():
                raise FilterError(f"{field}={on!r}: {field} alone names a day, YYYY-MM-DD; "
                                  f"use {field}> and {field}< for instants")
            when = when.date()
        start, end = _midnight(when), _midnight(when) + timedelta(days=1)
    if after is not None:
        when = parse_when(field + ">", after)
        bound = when if isinstance(when, datetime) else _midnight(when)
        start = bound if start is None else max(start, bound)
    if before is not None:
        when = parse_when(field + "<", before)
        bound = when if isinstance(when, datetime) else _midnight(when)
        end = bound if end is None else min(end, bound)
    return Window(start, end)


def refuse_unknown(args: Iterable[str], known: Iterable[str], resource: str) -> None:
    """Refuse any parameter of a list request outside `known` (and paging)."""
    allowed = PAGING | frozenset(known)
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise FilterError(f"{resource}: the emulator does not model the filter "
                          f"{', '.join(unknown)} (it knows {', '.join(sorted(allowed))})")


def one_of(args: Mapping[str, str], name: str, values: frozenset[str]) -> str | None:
    value = args.get(name)
    if value is not None and value not in values:
        raise FilterError(f"{name}={value!r} is not one of {', '.join(sorted(values))}")
    return value


def flag(args: Mapping[str, str], name: str) -> bool | None:
    value = args.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise FilterError(f"{name}={value!r}: true or false")
    return value.lower() == "true"
