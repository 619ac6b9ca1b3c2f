"""`Queues.push_front`: a caller coming back (failed transfer, 911 reclassified as 311) goes
ahead of every call of its class, aged or not, and never ahead of a better-ranked class."""

from __future__ import annotations

import pytest
from queue_support import MakeQueues

from queues import QueueClass, Queues

T0 = 1_700_000_000.0
EMERGENCY = QueueClass("emergency", 0, max_size=50)
GENERAL = QueueClass("general", 1, max_size=3, aging_seconds=60, aging_max_levels=3,
                     aging_floor=1)
ALL = {"line:911", "line:311", "lang:es"}


@pytest.fixture
def q(make_queues: MakeQueues) -> Queues:
    return make_queues([EMERGENCY, GENERAL])


def test_front_of_its_class_ahead_of_better_priorities_and_older_aged_calls(q: Queues) -> None:
    q.push("old-low", "general", 5, {"line:311"}, T0)  # aged 3 levels by T0 + 600
    q.push("urgent", "general", 2, {"line:311", "lang:es"}, T0 + 300)
    q.push("911", "emergency", 9, {"line:911"}, T0 + 500)
    result = q.push_front("back", "general", 7, {"line:311"}, T0 + 600, {"line": "311"})
    assert result.status == "queued" and result.entry is not None
    assert result.entry.priority == 2 and result.entry.arrival < T0
    now = T0 + 600
    assert q.position("back", now) == 2  # behind the 911 call only (a better-ranked class)
    assert [q.pop(ALL, now).call_id for _ in range(4)] == [  # type: ignore[union-attr]
        "911", "back", "urgent", "old-low"]


def test_into_an_empty_class_keeps_its_own_priority_and_time(q: Queues) -> None:
    result = q.push_front("alone", "general", 4, {"line:311"}, T0)
    assert result.entry is not None and (result.entry.priority, result.entry.arrival) == (4, T0)
    assert q.position("alone", T0) == 1


def test_never_full_and_never_twice(q: Queues) -> None:
    for i in range(3):
        q.push(f"c{i}", "general", 3, {"line:311"}, T0 + i)
    assert q.push("late", "general", 3, {"line:311"}, T0 + 5).status == "full"
    assert q.push_front("back", "general", 3, {"line:311"}, T0 + 6).status == "queued"
    assert q.push_front("back", "general", 3, {"line:311"}, T0 + 7).status == "duplicate"
    assert q.pop({"line:311"}, T0 + 8).call_id == "back"  # type: ignore[union-attr]
