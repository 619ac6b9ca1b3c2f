"""What the queue promises, case by case, on real Redis (embedded and server)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from queue_support import MakeQueues
from redis.backoff import NoBackoff
from redis.retry import Retry

from queues import PRIORITY_MAX, Entry, PushResult, QueueClass, Queues
from queues import batch as batch_module

T0 = 1_700_000_000.0
EMERGENCY = QueueClass("emergency", 0, max_size=50, max_wait=120)
GENERAL = QueueClass(
    "general", 1, max_size=3, max_wait=600, aging_seconds=60, aging_max_levels=3, aging_floor=2,
    target_answer_seconds=90,
)  # fmt: skip
CLASSES = [EMERGENCY, GENERAL]
BOTH = {"line:911", "line:311"}


@pytest.fixture
def q(make_queues: MakeQueues) -> Queues:
    return make_queues(CLASSES)


def test_emergency_before_311_for_a_call_taker_who_can_take_both(q: Queues) -> None:
    # The 311 call is older, more urgent and fully aged; the 911 call is the least urgent.
    q.push("311-old", "general", 1, {"line:311"}, T0)
    q.push("911-late", "emergency", PRIORITY_MAX, {"line:911"}, T0 + 3600)
    assert q.position("911-late", T0 + 3600) == 1
    assert q.position("311-old", T0 + 3600) == 2
    assert q.pop(BOTH, T0 + 3600).call_id == "911-late"  # type: ignore[union-attr]
    assert q.pop(BOTH, T0 + 3600).call_id == "311-old"  # type: ignore[union-attr]


def test_a_911_call_needing_spanish_does_not_block_english_call_takers(q: Queues) -> None:
    q.push("911-es", "emergency", 1, {"line:911", "lang:es"}, T0)
    q.push("311-a", "general", 5, {"line:311"}, T0 + 1)
    # English-only call-taker who takes both lines: the 911 call is not theirs to take.
    assert q.pop(BOTH, T0 + 2).call_id == "311-a"  # type: ignore[union-attr]
    q.push("311-b", "general", 5, {"line:311"}, T0 + 3)
    # A Spanish-speaking call-taker still gets the 911 call before any 311 call.
    assert q.pop(BOTH | {"lang:es"}, T0 + 4).call_id == "911-es"  # type: ignore[union-attr]
    assert q.pop(BOTH | {"lang:es"}, T0 + 4).call_id == "311-b"  # type: ignore[union-attr]
    assert q.pop(BOTH | {"lang:es"}, T0 + 4) is None


def test_aging_is_bounded_and_never_crosses_a_class(q: Queues) -> None:
    q.push("old-8", "general", 8, {"line:311"}, T0)
    q.push("new-5", "general", 5, {"line:311"}, T0 + 170)
    q.push("new-3", "general", 3, {"line:311"}, T0 + 170)
    # At +180 old-8 aged 3 levels (the max): 8 -> 5, level with new-5 and older: before it.
    assert [q.position(c, T0 + 180) for c in ("old-8", "new-5", "new-3")] == [2, 3, 1]
    # Hours later old-8 is still capped at 5, while new-5 and new-3 both reached the floor 2
    # (equal arrivals: push order decides).
    later = T0 + 10 * 3600
    assert [q.position(c, later) for c in ("old-8", "new-5", "new-3")] == [3, 1, 2]
    assert q.pop({"line:311"}, later).call_id == "new-5"  # type: ignore[union-attr]
    # And no amount of waiting lifts a 311 call above a 911 call that just arrived.
    q.push("911", "emergency", 9, {"line:911"}, later)
    assert q.position("911", later) == 1
    assert q.pop(BOTH, later).call_id == "911"  # type: ignore[union-attr]


def test_aging_floor_stops_before_the_most_urgent_level(make_queues: MakeQueues) -> None:
    cls = QueueClass("general", 1, aging_seconds=10, aging_max_levels=8, aging_floor=3)
    q = make_queues([cls])
    q.push("aged", "general", 9, set(), T0)
    q.push("p3", "general", 3, set(), T0 + 1000)
    q.push("p1", "general", 1, set(), T0 + 1000)
    # 'aged' reached the floor 3 and arrived first: ahead of p3, never of p1.
    assert [q.position(c, T0 + 1000) for c in ("p1", "aged", "p3")] == [1, 2, 3]


def test_requeue_after_a_rejected_offer_keeps_the_original_place(q: Queues) -> None:
    q.push("first", "general", 5, {"line:311"}, T0)
    q.push("second", "general", 5, {"line:311"}, T0 + 5)
    offered = q.pop({"line:311"}, T0 + 10)
    assert offered is not None and offered.call_id == "first" and offered.attempts == 1
    assert q.position("first", T0 + 10) is None
    q.push("third", "general", 5, {"line:311"}, T0 + 20)
    back = q.requeue("first")
    assert back == offered
    assert q.position("first", T0 + 20) == 1
    again = q.pop({"line:311"}, T0 + 30)
    assert again is not None and again.call_id == "first" and again.attempts == 2
    assert again.arrival == T0 and again.seq == offered.seq
    assert q.requeue("second") is None  # waiting, not offered: nothing to do


def test_callback_keeps_its_place_and_is_offered_like_a_call(q: Queues) -> None:
    q.push("a", "general", 5, {"line:311"}, T0, {"caller": "h:42"})
    q.push("b", "general", 5, {"line:311"}, T0 + 1)
    flagged = q.mark_callback("a")
    assert flagged is not None and flagged.callback and flagged.data == {"caller": "h:42"}
    assert q.position("a", T0 + 2) == 1
    got = q.pop({"line:311"}, T0 + 2)
    assert got is not None and got.call_id == "a" and got.callback


def test_full_answers_full_and_requeue_ignores_max_size(q: Queues) -> None:
    for i in range(3):
        assert q.push(f"c{i}", "general", 5, {"line:311"}, T0 + i).queued
    assert q.push("c3", "general", 5, {"line:311"}, T0 + 3) == PushResult("full")
    assert q.push("e", "emergency", 5, {"line:911"}, T0 + 3).queued  # other classes unaffected
    popped = q.pop({"line:311"}, T0 + 4)
    assert popped is not None
    assert q.push("c4", "general", 5, {"line:311"}, T0 + 4).queued  # fills the free place
    assert q.requeue(popped.call_id) is not None  # the offered call keeps its own place
    assert q.stats(T0 + 4)["general"].size == 4
    assert q.push("c0", "emergency", 1, {"line:911"}, T0 + 5) == PushResult("duplicate")


def test_remove_returns_the_entry_and_its_wait(q: Queues) -> None:
    q.push("w", "general", 4, {"line:311"}, T0, {"lang": "es"})
    q.push("o", "general", 5, {"line:311"}, T0 + 1)
    assert q.pop({"line:311"}, T0 + 2).call_id == "w"  # type: ignore[union-attr]
    gone = q.remove("o")
    assert isinstance(gone, Entry) and gone.wait(T0 + 31) == 30.0
    assert q.remove("w") is not None  # offered calls can hang up too
    assert q.remove("w") is None and q.complete("w") is False
    assert q.stats(T0 + 40)["general"].size == 0


def test_due_overflow_and_stats(q: Queues) -> None:
    q.push("g1", "general", 5, {"line:311"}, T0)
    q.push("g2", "general", 5, {"line:311"}, T0 + 500)
    q.push("e1", "emergency", 1, {"line:911"}, T0 + 480)
    due = q.due_overflow(T0 + 600)
    assert [e.call_id for e in due] == ["g1", "e1"]  # arrival <= now - max_wait, oldest first
    stats = q.stats(T0 + 600)
    assert stats["general"].size == 2 and stats["general"].longest_wait == 600.0
    assert stats["general"].over_target == 2  # both waited more than 90 s
    assert stats["emergency"].size == 1 and stats["emergency"].over_target == 0


def test_due_after_a_wait_of_the_callers_choosing_in_every_class(q: Queues) -> None:
    # `waited` overrides each class's max_wait (emergency has none): a rollover's threshold.
    q.push("e1", "emergency", 1, {"line:911"}, T0)
    q.push("e2", "emergency", 1, {"line:911"}, T0 + 15)
    q.push("g1", "general", 5, {"line:311"}, T0 + 5)
    assert [e.call_id for e in q.due_overflow(T0 + 20, waited=20)] == ["e1"]
    assert [e.call_id for e in q.due_overflow(T0 + 25, waited=20)] == ["e1", "g1"]
    q.pop({"line:911"}, T0 + 25)  # e1 offered: no longer waiting, no longer listed
    assert [e.call_id for e in q.due_overflow(T0 + 40, waited=20)] == ["g1", "e2"]
    assert q.due_overflow(T0 + 40) == []  # by max_wait (600 for general): none
    with pytest.raises(ValueError):
        q.due_overflow(T0, waited=-1)


def test_over_target_and_due_at_their_exact_boundaries(q: Queues) -> None:
    # Over target: waited strictly longer than target_answer_seconds (90). Due for overflow:
    # waited max_wait (600) or more.
    q.push("g", "general", 5, {"line:311"}, T0)
    assert q.stats(T0 + 90)["general"].over_target == 0
    assert q.stats(T0 + 90.000001)["general"].over_target == 1
    assert q.due_overflow(T0 + 599.999999) == []
    assert [e.call_id for e in q.due_overflow(T0 + 600)] == ["g"]


def test_estimate_follows_position_staffing_and_handle_times(q: Queues) -> None:
    for i in range(3):
        q.push(f"c{i}", "general", 5, {"line:311"}, T0 + i)
    q.push("e", "emergency", 1, {"line:911"}, T0)
    first = q.estimate_wait("c2", T0 + 10)
    assert first is not None and first.position == 4
    assert first.samples == 0 and first.handle_seconds == GENERAL.default_handle_seconds
    assert first.seconds == 4 * GENERAL.default_handle_seconds  # no staffing: one call-taker
    q.set_staffing("general", 4)
    q.record_handle_time("general", 100.0, T0)
    q.record_handle_time("general", 200.0, T0 + 5)
    est = q.estimate_wait("c2", T0 + 10)
    assert est is not None and (est.agents, est.samples, est.handle_seconds) == (4, 2, 150.0)
    assert est.seconds == 4 * 150.0 / 4
    # Samples older than handle_max_age are ignored; the window keeps the newest only.
    assert q.estimate_wait("c2", T0 + 3604).samples == 1  # type: ignore[union-attr]
    for _ in range(q.handle_window + 5):
        q.record_handle_time("general", 60.0, T0 + 10)
    est = q.estimate_wait("c2", T0 + 10)
    assert est is not None and (est.samples, est.handle_seconds) == (q.handle_window, 60.0)
    assert q.estimate_wait("nobody", T0) is None


def test_full_precision_at_an_aging_boundary(make_queues: MakeQueues) -> None:
    # Arrivals with every digit of a double: a threshold printed with 14 digits would miss them.
    cls = QueueClass("general", 1, aging_seconds=15, aging_max_levels=2)
    q = make_queues([cls])
    t = 1_700_000_000.123456789
    now = t + 15
    assert now - 15 == t  # this arrival sits exactly on the one-level boundary at `now`
    q.push("x", "general", 5, set(), t)  # aged one level at `now`: 4
    q.push("y", "general", 4, set(), t + 1e-6)  # same effective priority, arrived later
    assert q.position("x", now) == 1 and q.position("y", now) == 2
    assert q.pop(set(), now).call_id == "x"  # type: ignore[union-attr]


def test_equal_arrivals_are_served_in_push_order(make_queues: MakeQueues) -> None:
    q = make_queues([EMERGENCY, replace(GENERAL, max_size=None)])
    for name in ("b", "a", "d", "c"):
        q.push(name, "general", 5, set(), T0)
    q.push("e", "general", 6, set(), T0 - 60)  # aged to 5 and earlier: first
    assert [q.position(c, T0) for c in "ebadc"] == [1, 2, 3, 4, 5]


def test_calls_of_an_unconfigured_class_are_left_alone(make_queues: MakeQueues) -> None:
    full = make_queues(CLASSES)
    full.push("g", "general", 5, set(), T0)
    full.push("e", "emergency", 5, set(), T0)
    only_911 = make_queues([EMERGENCY], center=full.keys.center)
    assert only_911.position("g", T0) is None
    assert only_911.pop(BOTH, T0).call_id == "e"  # type: ignore[union-attr]
    assert only_911.pop(BOTH, T0) is None
    assert only_911.remove("g") is not None


def test_a_pipeline_gives_the_same_answers_and_survives_a_concurrent_new_bucket(
    make_queues: MakeQueues,
) -> None:
    a = make_queues(CLASSES)
    b = make_queues(CLASSES, center=a.keys.center)
    a.push("x", "general", 5, {"line:311"}, T0)
    b.push("y", "emergency", 2, {"line:911", "lang:es"}, T0 + 1)  # a bucket `a` has not seen
    batch = a.pipeline()
    batch.push("z", "general", 4, {"line:311", "topic:streets"}, T0 + 2)  # and a new one here
    batch.position("x", T0 + 2).position("y", T0 + 2).pop(BOTH | {"lang:es"}, T0 + 3)
    batch.pop({"line:311"}, T0 + 3).pop({"line:311"}, T0 + 3)
    pushed, px, py, p1, p2, p3 = batch.execute()
    assert pushed.queued and pushed.position == 2
    assert (px, py) == (3, 1)
    assert [p1.call_id, p2.call_id, p3] == ["y", "x", None]


def test_a_pipeline_survives_a_script_flush_and_leaves_its_connection_clean(
    make_queues: MakeQueues, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis restarted (or SCRIPT FLUSH): every chunk answers NOSCRIPT; each operation is then
    run on its own, in order, and the connection returns to the pool with nothing unread."""
    monkeypatch.setattr(batch_module, "CHUNK", 2)
    q = make_queues(CLASSES)
    q.push("w", "emergency", 5, {"line:911"}, T0)
    q.redis.script_flush()
    batch = q.pipeline()
    for i in range(5):
        batch.push(f"c{i}", "emergency", 5, {"line:911"}, T0 + 1 + i)
    batch.pop(BOTH, T0 + 9).position("c4", T0 + 9).remove("c0")
    *pushed, popped, position, removed = batch.execute()
    assert [p.position for p in pushed] == [2, 3, 4, 5, 6]
    assert popped.call_id == "w" and position == 5 and removed.call_id == "c0"
    assert q.redis.ping() and q.position("c1", T0 + 9) == 1  # the socket is in step
    again = q.pipeline().pop(BOTH, T0 + 10).pop(BOTH, T0 + 10).execute()  # scripts loaded again
    assert [e.call_id for e in again] == ["c1", "c2"]


def test_a_batch_runs_its_full_chunks_while_it_is_built(
    make_queues: MakeQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk goes to Redis as soon as it is full (the next ones are planned meanwhile);
    execute() sends the rest and returns every answer in order. The heads and sizes a chunk
    remembers stay true across its pushes and pops (zsets in _lib.lua)."""
    monkeypatch.setattr(batch_module, "CHUNK", 4)
    monkeypatch.setattr(batch_module, "AHEAD", 0)  # each chunk's answer read before going on
    q = make_queues(CLASSES)
    other = make_queues(CLASSES, center=q.keys.center)
    # (on a server that does not know the script yet, the first chunk answers NOSCRIPT and
    # the batch runs at execute() instead, once the script is loaded)
    q.redis.script_load(q._scripts["batch"].script)
    batch = q.pipeline()
    for i in range(8):  # two full chunks: sent, and run by Redis before execute()
        batch.push(f"e{i}", "emergency", 5 - i % 3, {"line:911"}, T0 + i)
    batch.pop(BOTH, T0 + 9).pop(BOTH, T0 + 9).push("g", "general", 4, {"line:311"}, T0 + 9)
    assert other.position("e7", T0 + 9) is not None  # the first chunks have run
    assert other.position("g", T0 + 9) is None  # the last one waits for execute()
    *pushed, first, second, g = batch.execute()
    assert [p.position for p in pushed] == [1, 1, 1, 4, 3, 2, 7, 5]
    assert [first.call_id, second.call_id] == ["e2", "e5"]  # priority 3, oldest first
    assert g.position == 7 and other.position("g", T0 + 9) == 7


def test_a_batch_whose_connection_fails_raises_at_execute(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that cannot reach Redis while it is built raises from execute(), not from the
    method that added an operation."""
    monkeypatch.setattr(batch_module, "CHUNK", 2)
    client = redis.Redis(port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    q = Queues(client, "nowhere", CLASSES)
    batch = q.pipeline()
    for i in range(5):
        batch.push(f"c{i}", "emergency", 5, {"line:911"}, T0 + i)  # full chunks: sent at once
    with pytest.raises(redis.ConnectionError):
        batch.execute()


@pytest.mark.parametrize(
    "bad",
    [
        dict(call_id="", queue_class="general", priority=5),
        dict(call_id="a", queue_class="nope", priority=5),
        dict(call_id="a", queue_class="general", priority=0),
        dict(call_id="a", queue_class="general", priority=10),
    ],
)
def test_push_rejects_bad_input(q: Queues, bad: dict) -> None:
    with pytest.raises(ValueError):
        q.push(bad["call_id"], bad["queue_class"], bad["priority"], set(), T0)


def test_configuration_is_checked(make_queues: MakeQueues) -> None:
    with pytest.raises(ValueError, match="rank below"):
        make_queues([QueueClass("emergency", 1), QueueClass("general", 1)])
    with pytest.raises(ValueError):
        QueueClass("bad name", 1)
    with pytest.raises(ValueError):
        QueueClass("general", 1, aging_seconds=0)
    with pytest.raises(ValueError, match="must match"):
        make_queues(CLASSES, center="a}b")
    with pytest.raises(ValueError, match="tabs"):
        make_queues(CLASSES).push("a\tb", "general", 5, set(), T0)
    with pytest.raises(ValueError):
        make_queues(CLASSES).push("a", "general", 5, set(), float("nan"))
