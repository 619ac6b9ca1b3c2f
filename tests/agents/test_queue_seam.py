"""agents/ runs the queue's own scripts inside its atomic steps (agents.queuing): these tests
pin the agreement with `Queues` down, so that a change on either side shows here first."""

from __future__ import annotations

import random
from importlib.resources import files

import redis

from agents.keys import GROUP_ID_LENGTH, group_id
from agents.queuing import CALL, NOW_TEXT
from queues import QueueClass
from tests.agents.conftest import T0, Floor, MakeFloor, build_floor, new_center, purge

CLASSES = [
    QueueClass("emergency", 0),
    QueueClass("311", 1, aging_seconds=20, aging_max_levels=3, aging_floor=2),
    QueueClass("info", 2),
]
SKILLS = ["line:911", "line:311", "lang:es", "topic:streets"]


def test_the_lua_side_agrees_on_placeholders_and_group_ids() -> None:
    lib = files("agents").joinpath("scripts").joinpath("_lib.lua").read_text()
    assert f"NOW_MARK, CALL_MARK = '{NOW_TEXT}', '\\0call'" in lib
    assert CALL == "\x00call"
    assert f"local GID_LENGTH = {GROUP_ID_LENGTH}" in lib
    assert len(group_id(["a"])) == GROUP_ID_LENGTH == len(group_id([]))


def test_routing_offers_the_call_queues_pop_would_give(redis_client: redis.Redis) -> None:
    """Same pushes in two centers; one is served by `Queues.pop`, the other by routing, for
    random skill sets at random times (aging included): the same calls, in the same order."""
    rng = random.Random(7)
    a, b = new_center(), new_center()
    try:
        routed = build_floor(redis_client, a, CLASSES)
        popped = build_floor(redis_client, b, CLASSES)
        now = T0
        for i in range(60):
            cls = rng.choice(CLASSES).name
            reqs = rng.sample(SKILLS, rng.randint(0, 2))
            priority = rng.randint(1, 9)
            now += rng.choice([0.0, 0.5, 3.0, 10.0])
            for f in (routed, popped):
                assert f.queues.push(f"c{i}", cls, priority, reqs, now).queued
        for j in range(40):
            now += rng.choice([0.0, 7.0, 20.0])
            skills = rng.sample(SKILLS, rng.randint(0, 4))
            expected = popped.queues.pop(skills, now)
            routed.agents.login(f"a{j}", skills, now)
            got = routed.router.offer(f"a{j}", now)
            assert (got and got.entry) == expected, j
    finally:
        purge(redis_client, a)
        purge(redis_client, b)


def test_reject_gives_back_the_exact_place(floor: Floor) -> None:
    for i in range(5):
        floor.push(f"c{i}", "311", ["line:311"], T0 + i, priority=5 - i % 2)
    before = {f"c{i}": floor.queues.position(f"c{i}", T0 + 10) for i in range(5)}
    floor.agents.login("ana", ["line:311"], T0 + 10)
    r = floor.router.offer("ana", T0 + 10)
    assert r is not None
    floor.router.reservations.reject(r.reservation_id, T0 + 10)
    after = {f"c{i}": floor.queues.position(f"c{i}", T0 + 10) for i in range(5)}
    assert after == before


def test_odd_call_ids_survive_the_round_trip(make_floor: MakeFloor) -> None:
    floor = make_floor()
    ids = ['CA"quoted"', "CA with spaces", "CAé€", "CA\\back", "CA{tag}:1"]
    for i, call_id in enumerate(ids):
        floor.push(call_id, "311", [], T0 + i)
        floor.agents.login(f"a{i}", [], T0)
    made = floor.router.route(T0 + 10)
    assert sorted(r.call_id for r in made) == sorted(ids)
    for r in made:
        assert floor.router.reservations.for_call(r.call_id) == r
        assert floor.router.reservations.caller_gone(r.call_id, T0 + 11).status == "offered"
