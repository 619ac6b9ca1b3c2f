"""Routing on a real Redis: who is offered which call."""

from __future__ import annotations

from agents import State
from tests.agents.conftest import T0, Floor, MakeFloor

BOTH = ["line:911", "line:311", "lang:en"]
EN_311 = ["line:311", "lang:en"]


def offered(floor: Floor, now: float) -> dict[str, str]:
    """agent -> call of the offers `route` makes at `now`."""
    return {r.agent_id: r.call_id for r in floor.router.route(now)}


def test_911_before_311_for_a_call_taker_who_can_take_both(floor: Floor) -> None:
    floor.push("c311", "311", ["line:311"], T0)
    floor.push("c911", "emergency", ["line:911"], T0 + 30, priority=9)
    floor.agents.login("ana", BOTH, T0 + 40)
    assert offered(floor, T0 + 40) == {"ana": "c911"}


def test_a_911_call_needing_spanish_does_not_block_english_311(floor: Floor) -> None:
    floor.push("c911-es", "emergency", ["line:911", "lang:es"], T0)
    floor.push("c311", "311", ["line:311", "lang:en"], T0 + 5)
    floor.agents.login("ana", BOTH, T0 + 10)
    assert offered(floor, T0 + 10) == {"ana": "c311"}
    assert floor.queues.position("c911-es", T0 + 10) == 1
    floor.agents.login("luz", ["line:911", "lang:es"], T0 + 20)
    assert offered(floor, T0 + 20) == {"luz": "c911-es"}


def test_the_longest_idle_call_taker_gets_the_new_call(floor: Floor) -> None:
    floor.agents.login("bob", EN_311, T0 + 2)
    floor.agents.login("ana", EN_311, T0 + 1)
    floor.agents.login("cy", EN_311, T0 + 3)
    assert offered(floor, T0 + 5) == {}
    floor.push("c1", "311", ["line:311"], T0 + 10)
    assert offered(floor, T0 + 10) == {"ana": "c1"}
    floor.push("c2", "311", ["line:311"], T0 + 11)
    assert offered(floor, T0 + 11) == {"bob": "c2"}


def test_idle_time_restarts_when_a_call_taker_comes_back(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.agents.login("bob", EN_311, T0 + 1)
    floor.agents.go_on_break("ana", "coffee", T0 + 2)
    floor.agents.end_break("ana", T0 + 3)
    floor.push("c1", "311", ["line:311"], T0 + 4)
    assert offered(floor, T0 + 4) == {"bob": "c1"}


def test_a_call_is_offered_only_to_someone_with_its_skills(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.agents.login("bob", ["line:911", "lang:es"], T0)
    floor.push("c-es", "311", ["line:311", "lang:es"], T0 + 1)
    assert offered(floor, T0 + 1) == {}
    floor.agents.login("luz", ["line:311", "lang:es"], T0 + 2)
    assert offered(floor, T0 + 2) == {"luz": "c-es"}


def test_a_call_with_no_requirement_goes_to_anyone(floor: Floor) -> None:
    floor.agents.login("ana", [], T0)
    floor.push("c1", "311", [], T0 + 1)
    assert offered(floor, T0 + 1) == {"ana": "c1"}


def test_route_makes_every_possible_match(make_floor: MakeFloor) -> None:
    floor = make_floor()
    floor.router.batch = 3  # several script runs
    for i in range(10):
        floor.agents.login(f"a{i}", EN_311 if i % 2 else BOTH, T0 + i)
    for i in range(14):
        skills = ["line:911"] if i % 3 == 0 else ["line:311"]
        floor.push(f"c{i:02}", "emergency" if i % 3 == 0 else "311", skills, T0 + 20 + i)
    made = floor.router.route(T0 + 40)
    assert len(made) == 10
    assert len({r.call_id for r in made}) == 10
    # every 911 call went first, to call-takers who can take it
    calls_911 = {f"c{i:02}" for i in range(14) if i % 3 == 0}
    assert calls_911 <= {r.call_id for r in made}
    assert all(r.agent_id in {"a0", "a2", "a4", "a6", "a8"}
               for r in made if r.call_id in calls_911)  # fmt: skip
    assert floor.router.route(T0 + 41) == []
    assert floor.waiting(T0 + 41) == 4
    assert all(p.state == State.RESERVED for p in floor.agents.all())


def test_nobody_busy_resting_or_on_break_is_offered(make_floor: MakeFloor) -> None:
    floor = make_floor(reject_delay=30.0)
    for name in ("busy", "pause", "rest", "wrap"):
        floor.agents.login(name, EN_311, T0)
    floor.agents.go_on_break("pause", "lunch", T0)
    floor.push("c1", "311", ["line:311"], T0)
    floor.push("c2", "311", ["line:311"], T0)
    floor.push("c3", "311", ["line:311"], T0)
    first = {r.agent_id: r for r in floor.router.route(T0 + 1)}
    assert set(first) == {"busy", "rest", "wrap"}
    floor.router.reservations.accept(first["busy"].reservation_id, T0 + 2)
    floor.router.reservations.reject(first["rest"].reservation_id, T0 + 2)
    floor.router.reservations.accept(first["wrap"].reservation_id, T0 + 2)
    floor.agents.end_call("wrap", T0 + 3)
    assert floor.router.route(T0 + 4) == []
    assert floor.queues.position(first["rest"].call_id, T0 + 4) == 1


def test_offer_to_one_call_taker(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.agents.login("bob", EN_311, T0 + 1)
    assert floor.router.offer("bob", T0 + 2) is None
    floor.push("c1", "311", ["line:311"], T0 + 3)
    reservation = floor.router.offer("bob", T0 + 4)
    assert reservation is not None and reservation.call_id == "c1"
    assert floor.router.offer("bob", T0 + 5) is None  # already reserved


def test_callback_entries_are_offered_and_say_so(floor: Floor) -> None:
    floor.push("c1", "311", ["line:311"], T0, data={"callback_number": "+14105550100"})
    assert floor.queues.mark_callback("c1") is not None
    floor.agents.login("ana", EN_311, T0 + 60)
    [reservation] = floor.router.route(T0 + 60)
    assert reservation.callback
    assert reservation.entry.data == {"callback_number": "+14105550100"}
    assert (reservation.offered_at, reservation.expires_at) == (T0 + 60, T0 + 75)


def test_groups_and_buckets_added_by_another_process(make_floor: MakeFloor) -> None:
    """Router caches (skill-set groups, queue buckets) go stale and recover."""
    mine = make_floor()
    other = make_floor(center=mine.center)
    mine.agents.login("ana", EN_311, T0)
    assert mine.router.route(T0) == []  # caches filled
    other.agents.login("luz", ["line:311", "lang:es"], T0 + 1)  # a new group
    other.push("c-es", "311", ["line:311", "lang:es"], T0 + 2)  # a new bucket
    assert {r.agent_id: r.call_id for r in mine.router.route(T0 + 3)} == {"luz": "c-es"}
    other.push("c-en", "311", ["lang:en"], T0 + 4)  # another new bucket
    assert mine.router.offer("ana", T0 + 5) is not None
