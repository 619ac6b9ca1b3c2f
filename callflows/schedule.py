"""Opening hours and times of day, as supervisors write them and as the engine tests them.

Parsing functions raise `ValueError` with a sentence meant for the supervisor; the parser adds
file and line. Evaluation takes a local `datetime` it was given: this module never reads a clock.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Ranges = tuple[tuple[int, int], ...]

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def parse_clock(text: str, *, allow_24: bool = False) -> int:
    """``"07:30"`` -> minutes after midnight. ``"24:00"`` only as the end of a range."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time of day like 07:00")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValueError(f"'{text}' is not a time of day (use 00:00 to 23:59)")
    return hours * 60 + minutes


def parse_days(text: str) -> list[int]:
    """``"mon-fri"``, ``"sat"``, ``"mon,wed,fri"``, ``"fri-mon"``, ``"daily"`` -> weekdays.

    Monday is 0, as in `datetime.weekday`.
    """
    spec = text.strip().lower()
    if spec in ("daily", "every day", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        ends = [p.strip() for p in part.split("-")]
        unknown = [e for e in ends if e not in DAYS]
        if not part.strip() or len(ends) > 2 or unknown:
            raise ValueError(f"'{text}' is not a day or a range of days like mon-fri "
                             f"(days are {', '.join(DAYS)})")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days += [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    return days


def parse_ranges(text: str) -> Ranges:
    """``"07:00-19:00"``, ``"07:00-12:00, 13:00-17:00"`` or ``"closed"`` -> minute ranges."""
    spec = text.strip().lower()
    if spec == "closed":
        return ()
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        ends = part.split("-")
        if len(ends) != 2:
            raise ValueError(f"'{text}' is not hours like 07:00-19:00 (or 'closed')")
        start, end = parse_clock(ends[0]), parse_clock(ends[1], allow_24=True)
        if end <= start:
            raise ValueError(f"'{part.strip()}' ends before it starts; hours past midnight are "
                             "written as two ranges, one on each day")
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise ValueError(f"the hours in '{text}' overlap")
    return tuple(ranges)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-12-25") from None


def parse_holiday(text: str) -> tuple[date, str]:
    """``"2026-12-25 Christmas Day"`` (the name is optional) -> (date, name)."""
    day, _, name = text.strip().partition(" ")
    return parse_date(day), name.strip()


def is_open(schedule: dict[int, Ranges], local: datetime) -> bool:
    """True when `local` (already in the schedule's timezone) falls in that weekday's ranges."""
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in schedule.get(local.weekday(), ()))


def in_window(local: datetime, after: int | None, before: int | None,
              days: frozenset[int] | None) -> bool:
    """Time-of-day window test; `after` is inclusive, `before` exclusive, wrapping midnight."""
    if days is not None and local.weekday() not in days:
        return False
    minute = local.hour * 60 + local.minute
    if after is not None and before is not None and after > before:
        return minute >= after or minute < before
    return (after is None or minute >= after) and (before is None or minute < before)
