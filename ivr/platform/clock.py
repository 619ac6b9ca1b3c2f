"""Time, as every room receives it: a `Clock` is passed in, never read from a global, so the
emulator's virtual clock and the wall clock are interchangeable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_time(text: str, timezone: str) -> datetime:
    """`text` (ISO 8601) as an aware time; without an offset it is the center's local time.
    Raises ValueError with a sentence for a person when `text` is not a time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 2026-11-23T10:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
