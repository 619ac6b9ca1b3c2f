"""Offers on a real Redis: accept, reject, timeout, missed offers, the caller hanging up."""

from __future__ import annotations

import pytest

from agents import OfferClosed, Reservation, State
from tests.agents.conftest import T0, Floor, MakeFloor

EN_311 = ["line:311", "lang:en"]


def one_offer(floor: Floor, now: float) -> Reservation:
    [reservation] = floor.router.route(now)
    return reservation


def test_accept_puts_the_call_taker_on_the_call_and_completes_the_call(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    r = one_offer(floor, T0 + 1)
    assert floor.router.reservations.get(r.reservation_id) == r
    assert floor.router.reservations.for_call("c1") == r
    assert floor.router.reservations.accept(r.reservation_id, T0 + 3, agent_id="ana") == r
    p = floor.agents.get("ana")
    assert p is not None
    assert (p.state, p.call_id, p.reservation_id, p.since) == (State.ON_CALL, "c1", None, T0 + 3)
    assert floor.router.reservations.all() == []
    assert floor.queues.requeue("c1") is None and not floor.queues.complete("c1")
    with pytest.raises(OfferClosed, match="is no longer open"):
        floor.router.reservations.accept(r.reservation_id, T0 + 4)


def test_reject_puts_the_call_back_in_its_place_and_the_next_one_gets_it(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.agents.login("bob", EN_311, T0 + 1)
    floor.push("c1", "311", ["line:311"], T0 + 2)
    floor.push("c2", "311", ["line:311"], T0 + 3)
    floor.agents.go_on_break("bob", "coffee", T0 + 3)
    r = one_offer(floor, T0 + 4)
    assert (r.agent_id, r.call_id) == ("ana", "c1")
    assert floor.queues.position("c2", T0 + 4) == 1
    back = floor.router.reservations.reject(r.reservation_id, T0 + 5, agent_id="ana")
    assert back == r
    assert floor.queues.position("c1", T0 + 5) == 1  # its original place, before c2
    assert floor.queues.position("c2", T0 + 5) == 2
    p = floor.agents.get("ana")
    assert p is not None
    assert (p.state, p.missed, p.idle_since) == (State.AVAILABLE, 1, T0 + 5)
    floor.agents.end_break("bob", T0 + 4.5)  # idle before ana's reject: bob is next
    again = {r.agent_id: r for r in floor.router.route(T0 + 6)}
    assert (again["bob"].call_id, again["bob"].entry.attempts) == ("c1", 2)
    assert again["ana"].call_id == "c2"


def test_reject_of_someone_elses_offer_is_refused(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    r = one_offer(floor, T0)
    with pytest.raises(OfferClosed, match="was made to call-taker ana"):
        floor.router.reservations.reject(r.reservation_id, T0 + 1, agent_id="bob")
    with pytest.raises(OfferClosed, match="was made to call-taker ana"):
        floor.router.reservations.accept(r.reservation_id, T0 + 1, agent_id="bob")
    assert floor.state("ana") == "reserved"


def test_timeout(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    r = one_offer(floor, T0 + 1)
    assert r.expires_at == T0 + 16
    assert floor.router.reservations.expire_due(T0 + 15.9) == []
    with pytest.raises(OfferClosed, match="expired at"):
        floor.router.reservations.accept(r.reservation_id, T0 + 16)
    tick = floor.router.tick(T0 + 20)
    assert tick.expired == [r]
    # counted from the deadline: ana is idle since T0 + 16 and is offered the call again
    assert [(x.agent_id, x.call_id) for x in tick.offered] == [("ana", "c1")]
    p = floor.agents.get("ana")
    assert p is not None and p.missed == 1


def test_missed_offers_in_a_row_put_the_call_taker_on_break(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    now = T0
    for missed in (1, 2):
        r = one_offer(floor, now)
        floor.router.reservations.reject(r.reservation_id, now + 1)
        p = floor.agents.get("ana")
        assert p is not None and (p.state, p.missed) == (State.AVAILABLE, missed)
        now += 2
    r = one_offer(floor, now)
    assert [x.reservation_id for x in floor.router.reservations.expire_due(now + 15)] == [
        r.reservation_id
    ]
    p = floor.agents.get("ana")
    assert p is not None
    assert (p.state, p.reason, p.missed) == (State.ON_BREAK, "missed calls", 3)
    assert floor.router.route(now + 16) == []
    assert floor.queues.position("c1", now + 16) == 1
    p = floor.agents.end_break("ana", now + 60)
    assert (p.state, p.missed) == (State.AVAILABLE, 0)


def test_accepting_resets_the_missed_count(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    floor.router.reservations.reject(one_offer(floor, T0).reservation_id, T0 + 1)
    floor.router.reservations.accept(one_offer(floor, T0 + 2).reservation_id, T0 + 3)
    p = floor.agents.get("ana")
    assert p is not None and p.missed == 0


def test_reject_delay_keeps_the_call_taker_out_of_routing(make_floor: MakeFloor) -> None:
    floor = make_floor(reject_delay=5.0)
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    p_before = one_offer(floor, T0)
    floor.router.reservations.reject(p_before.reservation_id, T0 + 1)
    p = floor.agents.get("ana")
    assert p is not None and (p.state, p.ready_at) == (State.AVAILABLE, T0 + 6)
    assert floor.router.tick(T0 + 5.9).offered == []
    tick = floor.router.tick(T0 + 6)
    assert [x.agent_id for x in tick.offered] == ["ana"]


def test_caller_hanging_up_while_offered_frees_the_call_taker_at_once(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    floor.router.reservations.reject(one_offer(floor, T0).reservation_id, T0 + 1)
    r = one_offer(floor, T0 + 3)  # c1 again, to ana, who has missed one offer
    gone = floor.router.reservations.caller_gone("c1", T0 + 4)
    assert (gone.status, gone.reservation) == ("offered", r)
    assert gone.entry is not None and gone.entry.call_id == "c1"
    p = floor.agents.get("ana")
    assert p is not None
    # available at once, the miss count unchanged, still idle since before the offer
    assert (p.state, p.missed, p.idle_since, p.reservation_id) == (State.AVAILABLE, 1, T0 + 1, None)
    assert floor.waiting(T0 + 4) == 0 and floor.router.reservations.all() == []
    with pytest.raises(OfferClosed, match="is no longer open"):
        floor.router.reservations.accept(r.reservation_id, T0 + 5)
    assert floor.router.reservations.caller_gone("c1", T0 + 5).status == "unknown"


def test_caller_hanging_up_while_waiting(floor: Floor) -> None:
    floor.push("c1", "311", ["line:311"], T0)
    gone = floor.router.reservations.caller_gone("c1", T0 + 30)
    assert gone.status == "waiting" and gone.entry is not None and gone.entry.wait(T0 + 30) == 30
    assert floor.waiting(T0 + 30) == 0
    assert floor.router.reservations.caller_gone("nobody", T0).status == "unknown"


def test_a_call_removed_behind_the_routers_back_cannot_be_accepted(floor: Floor) -> None:
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    r = one_offer(floor, T0)
    assert floor.queues.remove("c1") is not None  # instead of caller_gone
    with pytest.raises(OfferClosed, match="the caller is no longer waiting"):
        floor.router.reservations.accept(r.reservation_id, T0 + 1)
    assert floor.state("ana") == "available"


def test_expire_many_at_once(make_floor: MakeFloor) -> None:
    floor = make_floor()
    for i in range(7):
        floor.agents.login(f"a{i}", EN_311, T0)
        floor.push(f"c{i}", "311", ["line:311"], T0 + i)
    assert len(floor.router.route(T0 + 10)) == 7
    expired = floor.router.reservations.expire_due(T0 + 30, limit=3)
    assert sorted(r.call_id for r in expired) == [f"c{i}" for i in range(7)]
    assert [floor.queues.position(f"c{i}", T0 + 30) for i in range(7)] == list(range(1, 8))
    assert all(p.state == State.AVAILABLE and p.missed == 1 for p in floor.agents.all())
