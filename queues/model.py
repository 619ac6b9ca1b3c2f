"""The values of the queue package: queue classes (configuration) and waiting-call entries.

Ordering rule, relied on everywhere (Lua scripts, tests, the waitUrl's "you are caller N"):
a call is served before another when its key

    (class rank, effective priority, arrival, seq)

is smaller. Rank is compared first, so no amount of aging moves a call past a call of a
better-ranked class (a 311 call never overtakes a waiting 911 call). `seq` is a per-center
counter given at push; it only breaks ties between calls that arrived at the same instant.

Aging: after each full `aging_seconds` of waiting, a call's priority improves by one level, at
most `aging_max_levels` levels and never past `aging_floor` (a call already better than the floor
is never made worse). The level count is defined as the largest ``k <= aging_max_levels`` with
``arrival <= now - k * aging_seconds``, computed in IEEE doubles exactly as the Lua scripts do, so
Python and Redis agree bit for bit at every boundary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PRIORITY_MIN = 1
PRIORITY_MAX = 9
EMERGENCY = "emergency"

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class QueueClass:
    """One queue class from configuration (``emergency``, ``311``, ``311-es`` ...).

    `rank`: lower is served first; the ``emergency`` class must rank strictly above every other
    class (checked by `Queues`). `max_size`: waiting calls beyond which push answers ``full``
    (None: unbounded). `max_wait`: seconds after which a call is listed by `due_overflow`
    (None: never). `aging_*`: see the module docstring (no aging when `aging_seconds` is None or
    `aging_max_levels` is 0). `target_answer_seconds`: the service-level target, used by `stats`
    to count calls waiting longer. `default_handle_seconds`: the handle time assumed by wait
    estimates until real handle times have been recorded.
    """

    name: str
    rank: int
    max_size: int | None = None
    max_wait: float | None = None
    aging_seconds: float | None = None
    aging_max_levels: int = 0
    target_answer_seconds: float | None = None
    aging_floor: int = PRIORITY_MIN
    default_handle_seconds: float = 180.0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"queue class name {self.name!r} must match {_NAME.pattern}")
        if self.max_size is not None and self.max_size < 0:
            raise ValueError(f"queue class {self.name}: max_size must be >= 0")
        if self.aging_seconds is not None and not self.aging_seconds > 0:
            raise ValueError(f"queue class {self.name}: aging_seconds must be > 0 or None")
        if not 0 <= self.aging_max_levels <= PRIORITY_MAX - PRIORITY_MIN:
            raise ValueError(
                f"queue class {self.name}: aging_max_levels must be within "
                f"0..{PRIORITY_MAX - PRIORITY_MIN}"
            )
        if not PRIORITY_MIN <= self.aging_floor <= PRIORITY_MAX:
            raise ValueError(f"queue class {self.name}: aging_floor must be a priority")
        if not self.default_handle_seconds > 0:
            raise ValueError(f"queue class {self.name}: default_handle_seconds must be > 0")

    @property
    def ages(self) -> bool:
        return self.aging_seconds is not None and self.aging_max_levels > 0

    def aged_levels(self, arrival: float, now: float) -> int:
        """Levels gained at `now` by a call that arrived at `arrival` (0..aging_max_levels)."""
        if not self.ages:
            return 0
        assert self.aging_seconds is not None
        levels = 0
        for k in range(1, self.aging_max_levels + 1):
            if arrival <= now - k * self.aging_seconds:
                levels = k
            else:
                break
        return levels

    def effective_priority(self, priority: int, arrival: float, now: float) -> int:
        """The priority a call of this class is served with at `now` (aging applied, bounded)."""
        floor = min(priority, self.aging_floor)
        return max(floor, priority - self.aged_levels(arrival, now))


@dataclass(frozen=True)
class Entry:
    """A waiting (or offered) call as the queue knows it.

    `skills` are the call's requirements: only a call-taker holding all of them may take it.
    `arrival` and `seq` fix its place in line for good: a requeue after a rejected offer and a
    switch to callback keep both. `callback` means the caller hung up and asked to be called
    back; the entry is still offered like a call when its turn comes. `attempts` counts offers.
    """

    call_id: str
    queue_class: str
    priority: int
    skills: frozenset[str]
    arrival: float
    data: Mapping[str, str] = field(default_factory=dict, hash=False)
    callback: bool = False
    attempts: int = 0
    seq: int = 0

    def wait(self, now: float) -> float:
        """Seconds waited since the original arrival (never negative)."""
        return max(0.0, now - self.arrival)


def make_entry(
    call_id: str,
    queue_class: str,
    priority: int,
    skills: frozenset[str],
    arrival: float,
    data: Mapping[str, str],
    callback: bool,
    attempts: int,
    seq: int,
) -> Entry:
    """An `Entry` of values the queue itself produced, built without the frozen dataclass's
    __init__ (it sets each field through object.__setattr__, which was a third of the client's
    cost of reading a popped call). The same object in every respect: equality, hash, repr."""
    entry = object.__new__(Entry)
    entry.__dict__.update(
        call_id=call_id, queue_class=queue_class, priority=priority, skills=skills,
        arrival=arrival, data=data, callback=callback, attempts=attempts, seq=seq,
    )  # fmt: skip
    return entry


@dataclass(frozen=True)
class PushResult:
    """The answer to a push. ``full``: the class is at `max_size`, run the flow's overflow step.
    ``duplicate``: the call id is already waiting or offered (nothing changed)."""

    status: Literal["queued", "full", "duplicate"]
    position: int | None = None
    entry: Entry | None = None

    @property
    def queued(self) -> bool:
        return self.status == "queued"


def make_push_result(status: str, position: int | None, entry: Entry | None) -> PushResult:
    """A `PushResult` built as `make_entry` builds an entry (for the queue's own answers)."""
    result = object.__new__(PushResult)
    result.__dict__.update(status=status, position=position, entry=entry)
    return result


@dataclass(frozen=True)
class ClassStats:
    """A queue class at one instant: waiting calls, the longest wait among them (0.0 when
    empty), and how many have waited longer than `target_answer_seconds` (0 without target)."""

    queue_class: str
    size: int
    longest_wait: float
    over_target: int


@dataclass(frozen=True)
class WaitEstimate:
    """Estimated wait of one caller: ``seconds = position * handle_seconds / max(1, agents)``.

    `handle_seconds` is the mean of `samples` recent handle times of the call's class, or the
    class default when there are none; `agents` is the staffing recorded with `set_staffing`
    (0 when never recorded, which the formula treats as one call-taker).
    """

    position: int
    seconds: float
    agents: int
    handle_seconds: float
    samples: int
