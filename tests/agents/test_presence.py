"""Presence on a real Redis: every transition a person can ask for, from every state, allowed
or refused with its sentence; wrap-up and its timer; breaks chosen during wrap-up; events;
staffing; state that outlives the process."""

from __future__ import annotations

import json

import pytest

from agents import Action, State, TransitionRefused
from agents.model import TRANSITIONS, refusal
from tests.agents.conftest import T0, Floor, MakeFloor

SKILLS = ["line:311", "lang:en"]


def into(floor: Floor, agent: str, state: State, now: float) -> None:
    """Bring a fresh call-taker into `state` (the queue is used to reach reserved and on)."""
    if state == State.OFFLINE:
        return
    floor.agents.login(agent, SKILLS, now)
    if state == State.ON_BREAK:
        floor.agents.go_on_break(agent, "lunch", now)
    elif state in (State.RESERVED, State.ON_CALL, State.WRAP_UP):
        floor.push(f"call-{agent}", "311", ["line:311"], now)
        reservation = floor.router.offer(agent, now)
        assert reservation is not None
        if state != State.RESERVED:
            floor.router.reservations.accept(reservation.reservation_id, now)
        if state == State.WRAP_UP:
            floor.agents.end_call(agent, now)
    assert floor.state(agent) == state.value


def act(floor: Floor, action: Action, agent: str, now: float):  # type: ignore[no-untyped-def]
    a = floor.agents
    return {
        Action.LOGIN: lambda: a.login(agent, SKILLS, now),
        Action.LOGOUT: lambda: a.logout(agent, now),
        Action.BREAK: lambda: a.go_on_break(agent, "coffee", now),
        Action.END_BREAK: lambda: a.end_break(agent, now),
        Action.END_CALL: lambda: a.end_call(agent, now),
        Action.FINISH_WRAP_UP: lambda: a.finish_wrap_up(agent, now),
        Action.SET_SKILLS: lambda: a.set_skills(agent, ["line:911"], now),
    }[action]()


PERSON = [Action.LOGIN, Action.LOGOUT, Action.BREAK, Action.END_BREAK, Action.END_CALL,
          Action.FINISH_WRAP_UP, Action.SET_SKILLS]  # fmt: skip


@pytest.mark.parametrize("action", PERSON)
def test_every_transition_from_every_state(floor: Floor, action: Action) -> None:
    for state in State:
        agent = f"ana-{state.value}"
        into(floor, agent, state, T0)
        row = TRANSITIONS[action]
        if state in row:
            presence = act(floor, action, agent, T0 + 1)
            assert presence.state in row[state], (action, state)
            assert floor.state(agent) == presence.state.value
        else:
            with pytest.raises(TransitionRefused) as refused:
                act(floor, action, agent, T0 + 1)
            assert str(refused.value) == refusal(action, state, agent)
            assert floor.state(agent) == state.value  # nothing changed


def test_break_while_on_a_call_is_refused_with_a_sentence(floor: Floor) -> None:
    into(floor, "ana", State.ON_CALL, T0)
    with pytest.raises(TransitionRefused, match="call-taker ana is on a call; end the call "
                       "before going on break"):  # fmt: skip
        floor.agents.go_on_break("ana", "lunch", T0 + 5)


def test_unknown_call_taker_reads_as_logged_out(floor: Floor) -> None:
    assert floor.agents.get("zed") is None
    with pytest.raises(TransitionRefused, match="call-taker zed is logged out; log in before"):
        floor.agents.go_on_break("zed", "lunch", T0)


def test_login_record(floor: Floor) -> None:
    p = floor.agents.login("ana", ["line:311", "lang:es"], T0)
    assert (p.state, p.since, p.idle_since, p.missed) == (State.AVAILABLE, T0, T0, 0)
    assert p.skills == {"line:311", "lang:es"}
    assert floor.agents.get("ana") == p
    assert [x.agent_id for x in floor.agents.all()] == ["ana"]
    with pytest.raises(ValueError):
        floor.agents.go_on_break("ana", "  ", T0)
    with pytest.raises(TypeError):
        floor.agents.login("bob", "line:311", T0)  # type: ignore[arg-type]


def test_break_and_back(floor: Floor) -> None:
    floor.agents.login("ana", SKILLS, T0)
    p = floor.agents.go_on_break("ana", "lunch", T0 + 60)
    assert (p.state, p.reason, p.since) == (State.ON_BREAK, "lunch", T0 + 60)
    p = floor.agents.end_break("ana", T0 + 1800)
    assert (p.state, p.reason, p.idle_since) == (State.AVAILABLE, None, T0 + 1800)


def test_wrap_up_then_available_on_the_timer(floor: Floor) -> None:
    into(floor, "ana", State.ON_CALL, T0)
    p = floor.agents.end_call("ana", T0 + 15)
    assert (p.state, p.wrap_up_until, p.call_id) == (State.WRAP_UP, T0 + 25, None)
    assert floor.router.tick(T0 + 24).timers == 0
    assert floor.state("ana") == "wrap_up"
    assert floor.router.tick(T0 + 31).timers == 1
    p = floor.agents.get("ana")
    assert p is not None
    # available from the end of wrap-up, not from the tick
    assert (p.state, p.since, p.idle_since, p.wrap_up_until) == (
        State.AVAILABLE,
        T0 + 25,
        T0 + 25,
        None,
    )


def test_handle_time_is_talk_plus_wrap_up(floor: Floor) -> None:
    into(floor, "ana", State.ON_CALL, T0)
    floor.agents.end_call("ana", T0 + 15)
    floor.agents.finish_wrap_up("ana", T0 + 19)
    floor.agents.go_on_break("ana", "lunch", T0 + 20)  # so the next call stays waiting
    floor.push("next", "311", ["line:311"], T0 + 20)
    estimate = floor.queues.estimate_wait("next", T0 + 20)
    assert estimate is not None
    assert (estimate.samples, estimate.handle_seconds) == (1, 19.0)


def test_break_chosen_during_wrap_up_starts_when_it_ends(floor: Floor) -> None:
    into(floor, "ana", State.WRAP_UP, T0)
    p = floor.agents.go_on_break("ana", "training", T0 + 2)
    assert (p.state, p.pending_break) == (State.WRAP_UP, "training")
    floor.router.tick(T0 + 10)
    p = floor.agents.get("ana")
    assert p is not None
    assert (p.state, p.reason, p.pending_break, p.since) == (
        State.ON_BREAK,
        "training",
        None,
        T0 + 10,
    )


def test_end_break_during_wrap_up_cancels_the_pending_break(floor: Floor) -> None:
    into(floor, "ana", State.WRAP_UP, T0)
    floor.agents.go_on_break("ana", "training", T0 + 1)
    p = floor.agents.end_break("ana", T0 + 2)
    assert (p.state, p.pending_break) == (State.WRAP_UP, None)
    assert floor.agents.finish_wrap_up("ana", T0 + 3).state == State.AVAILABLE


def test_wrap_up_of_zero_seconds_goes_straight_to_available(make_floor: MakeFloor) -> None:
    floor = make_floor(wrap_up_seconds=0)
    into(floor, "ana", State.ON_CALL, T0)
    p = floor.agents.end_call("ana", T0 + 30)
    assert (p.state, p.idle_since) == (State.AVAILABLE, T0 + 30)


def test_end_call_for_another_call_changes_nothing(floor: Floor) -> None:
    into(floor, "ana", State.ON_CALL, T0)
    p = floor.agents.end_call("ana", T0 + 5, call_id="someone-else")
    assert (p.state, p.call_id) == (State.ON_CALL, "call-ana")
    assert floor.agents.end_call("ana", T0 + 6, call_id="call-ana").state == State.WRAP_UP
    # the same report again (a repeated status callback): no error, no change
    assert floor.agents.end_call("ana", T0 + 7, call_id="call-ana").state == State.WRAP_UP


def test_logout_from_wrap_up(floor: Floor) -> None:
    into(floor, "ana", State.WRAP_UP, T0)
    p = floor.agents.logout("ana", T0 + 3)
    assert (p.state, p.idle_since, p.skills) == (State.OFFLINE, None, frozenset(SKILLS))
    assert floor.router.tick(T0 + 100).timers == 0


def test_events_are_published_in_order(floor: Floor) -> None:
    pubsub = floor.redis.pubsub()
    pubsub.subscribe(floor.agents.channel)
    assert floor.agents.channel == f"agents:{{{floor.center}}}:events"
    into(floor, "ana", State.WRAP_UP, T0)
    floor.agents.go_on_break("ana", "lunch", T0 + 1)
    floor.agents.finish_wrap_up("ana", T0 + 2)
    events = []
    while len(events) < 6 and (message := pubsub.get_message(timeout=1.0)) is not None:
        if message["type"] == "message":
            events.append(json.loads(message["data"]))
    assert pubsub.get_message(timeout=0.05) is None
    pubsub.close()
    assert [(e["event"], e["state"]) for e in events] == [
        ("login", "available"),
        ("offered", "reserved"),
        ("accepted", "on_call"),
        ("end_call", "wrap_up"),
        ("break_pending", "wrap_up"),
        ("wrap_up_done", "on_break"),
    ]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert all(e["agent"] == "ana" for e in events)
    assert events[1]["call"] == "call-ana" and events[1]["reservation"].startswith("R")
    assert events[-1]["reason"] == "lunch" and events[-1]["at"] == T0 + 2


def test_state_outlives_the_process(floor: Floor, make_floor: MakeFloor) -> None:
    into(floor, "ana", State.RESERVED, T0)
    into(floor, "bob", State.ON_BREAK, T0)
    later = make_floor(center=floor.center, wrap_up_seconds=10.0)  # a restarted process
    assert later.agents.all() == floor.agents.all()
    [reservation] = later.router.reservations.all()
    assert reservation.agent_id == "ana"
    later.router.reservations.accept(reservation.reservation_id, T0 + 1)
    assert floor.state("ana") == "on_call"


def test_on_duty_for_counts_those_who_could_answer_a_call(floor: Floor) -> None:
    floor.agents.login("ana", ["line:311", "lang:es"], T0)
    floor.agents.login("bob", ["line:311"], T0)
    floor.agents.login("dee", ["line:311", "lang:es"], T0)
    floor.agents.go_on_break("dee", "lunch", T0)  # on break is not on duty
    assert floor.agents.on_duty_for(["line:311"]) == 2
    assert floor.agents.on_duty_for(["line:311", "lang:es"]) == 1
    assert floor.agents.on_duty_for(["line:311", "lang:fr"]) == 0
    floor.agents.logout("ana", T0)
    assert floor.agents.on_duty_for(["line:311", "lang:es"]) == 0


def test_staffing_counts_call_takers_on_duty_per_class(floor: Floor) -> None:
    floor.agents.login("ana", ["line:311", "line:911"], T0)
    floor.agents.login("bob", ["line:311"], T0)
    floor.agents.login("cy", ["line:911", "lang:es"], T0)
    floor.agents.login("dee", ["line:311"], T0)
    floor.agents.go_on_break("dee", "lunch", T0)
    floor.agents.login("eve", ["line:311"], T0)
    floor.agents.logout("eve", T0)
    assert floor.agents.staffing() == {"emergency": 2, "311": 2}
    assert floor.router.tick(T0).staffing == {"emergency": 2, "311": 2}
    floor.agents.set_skills("bob", ["line:911"], T0)
    assert floor.agents.staffing() == {"emergency": 3, "311": 1}
    floor.push("c2", "311", ["lang:fr"], T0)  # nobody can take it: it waits
    floor.router.tick(T0)
    estimate = floor.queues.estimate_wait("c2", T0)
    assert estimate is not None and estimate.agents == 1
