"""The emulator's virtual clock.

Time in the emulator is virtual: it moves only when the scheduler (`ivr.sim.scheduler`) pops the
next event, never with the wall clock. An app under test receives `SimClock.now` as its time
source, so a 20-minute queue wait costs microseconds and every run is reproducible.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)  # a Monday morning, 09:00 UTC


class SimClock:
    """A clock that the emulator advances; `now()` is a timezone-aware UTC datetime.

    `elapsed` is the number of virtual seconds since `start` (a float). Only the scheduler
    moves it, and never backwards.
    """

    __slots__ = ("start", "_t")

    def __init__(self, start: datetime | None = None) -> None:
        start = DEFAULT_START if start is None else start
        if start.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start (e.g. tzinfo=UTC)")
        self.start = start.astimezone(UTC)
        self._t = 0.0

    def now(self) -> datetime:
        """The current virtual time, in UTC."""
        return self.start + timedelta(seconds=self._t)

    @property
    def elapsed(self) -> float:
        """Virtual seconds since `start`."""
        return self._t

    def at(self, t: float) -> datetime:
        """The datetime of virtual offset `t` (seconds since `start`)."""
        return self.start + timedelta(seconds=t)

    def offset(self, when: datetime) -> float:
        """The virtual offset (seconds since `start`) of an aware datetime."""
        return (when - self.start).total_seconds()

    def _move_to(self, t: float) -> None:
        if t < self._t:
            raise RuntimeError(f"virtual time cannot go back ({t} < {self._t})")
        self._t = t

    def __repr__(self) -> str:
        return f"SimClock({self.now().isoformat()})"


class Timing:
    """What things cost in virtual time. Rough on purpose: queues and tests need the order of
    magnitude (a 12-word prompt takes about 5 s), not a speech engine's exact figure."""

    __slots__ = ("seconds_per_word", "media_seconds", "beep_seconds", "digit_seconds")

    def __init__(
        self,
        seconds_per_word: float = 0.4,
        media_seconds: float | dict[str, float] = 10.0,
        beep_seconds: float = 0.5,
        digit_seconds: float = 0.5,
    ) -> None:
        self.seconds_per_word = seconds_per_word
        self.media_seconds = media_seconds  # one figure for every file, or {url: seconds}
        self.beep_seconds = beep_seconds
        self.digit_seconds = digit_seconds  # a <Play digits> tone, and a "w" pause

    def say(self, text: str, loop: int = 1) -> float:
        return max(len(text.split()), 1) * self.seconds_per_word * _loops(loop)

    def play(self, url: str, loop: int = 1) -> float:
        media = self.media_seconds
        seconds = media.get(url, 10.0) if isinstance(media, dict) else media
        return seconds * _loops(loop)


def _loops(loop: int) -> int:
    """Twilio plays `loop="0"` up to 1000 times."""
    return 1000 if loop <= 0 else loop
