"""Waiting in line, end to end: priority over Twilio's FIFO, what callers hear, how they leave."""

from __future__ import annotations

import re

import pytest

from ivr.sim import answers, hangup, press, record, silence, wait
from tests.conftest import ALL_BACKENDS, Backend
from tests.e2e.conftest import LINE_911
from tests.e2e.floor import Floor
from tests.e2e.helpers import events
from tests.e2e.helpers import record as sql_record


@pytest.fixture(scope="session", params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """These calls also run with Redis on the Cluster and behind the Sentinels."""
    return request.getfixturevalue(f"{request.param}_backend")


TO_A_CALL_TAKER = [press("1"), press("0")]  # English, talk to a call-taker
BOTH_LINES = {"line:311", "line:911"}
WAIT_THEN_HANG_UP = (wait(600), hangup())
NOBODY = "No call-takers are available right now"


def one_busy_call_taker(center, skills=("line:311",)):  # type: ignore[no-untyped-def]
    """A call-taker on duty who takes the first call and stays on it: the others wait, with a
    true estimate."""
    floor = Floor(center)
    floor.login("alice", skills, phone=answers(after=3, hangup_after=3000))
    return floor


def queued_311(center, n: int, then=WAIT_THEN_HANG_UP):  # type: ignore[no-untyped-def]
    calls = []
    for i in range(n):
        calls.append(center.call([*TO_A_CALL_TAKER, *then], caller=f"+1410555{i:04d}",
                                 at=i * 5.0))
    return calls


def test_a_911_call_behind_ten_311_calls_is_the_next_one_offered(center) -> None:
    waiting = queued_311(center, 10)
    center.sim.run(until=120)
    emergency = center.call([wait(600), hangup()], line=LINE_911, caller="+14105559111")
    center.sim.run(until=150)
    queues = center.services.queues
    assert queues.position(emergency.sid, center.clock.now().timestamp()) == 1
    first = queues.pop(BOTH_LINES, center.clock.now().timestamp())
    assert first is not None and first.call_id == emergency.sid
    # then the 311 calls, in arrival order (Twilio's own queue is FIFO; ours decided)
    order = [queues.pop(BOTH_LINES, center.clock.now().timestamp()).call_id for _ in range(10)]
    assert order == [c.sid for c in waiting]


def test_a_911_call_needing_spanish_does_not_hold_up_311_calls(center) -> None:
    english = queued_311(center, 2)
    spanish_911 = center.call([wait(600), hangup()], line=LINE_911, at=1.0)
    center.sim.run(until=60)
    # make the 911 call need Spanish: only a Spanish-speaking 911 call-taker can take it
    queues, now = center.services.queues, center.clock.now().timestamp()
    queues.remove(spanish_911.sid)
    queues.push(spanish_911.sid, "emergency", 1, {"line:911", "lang:es"}, now)
    english_only = {"line:311", "line:911"}
    assert queues.pop(english_only, now).call_id == english[0].sid
    assert queues.pop(english_only | {"lang:es"}, now).call_id == spanish_911.sid


def test_callers_hear_their_own_priority_position_and_wait(center) -> None:
    one_busy_call_taker(center)
    calls = queued_311(center, 4)  # the first is answered
    center.sim.run(until=100)
    heard = calls[3].heard_text()
    assert "You are number 3 in line." in heard
    assert re.search(r"Your estimated wait is about \d+ minutes", heard)
    assert "press 1" in heard and "press 2" in heard
    # a 911 call arrives: 311 callers now hear they are one further back
    center.call([wait(600), hangup()], line=LINE_911)
    center.sim.run(until=200)
    assert "You are number 4 in line." in calls[3].heard_text()
    assert not any(c.application_error or NOBODY in c.heard_text() for c in calls)


def test_spanish_announcements(center) -> None:
    one_busy_call_taker(center, ("line:311", "lang:es"))
    calls = [center.call([press("2"), press("0"), wait(300), hangup()], caller=f"+141055500{i}",
                         at=i * 3.0) for i in range(3)]  # the first is answered
    center.sim.run(until=100)
    heard = calls[2].heard_text()
    assert "Usted es el número 2 en la fila." in heard
    assert "Su tiempo de espera estimado es de unos" in heard
    assert "oprima el 1" in heard


def test_911_callers_hear_no_numbers_and_no_options(center) -> None:
    call = center.call([wait(120), hangup()], line=LINE_911)
    center.run()
    text = call.heard_text()
    assert "Stay on the line. Do not hang up." in text
    assert "number" not in text and "press" not in text


def test_callback_keeps_the_place_in_line(center) -> None:
    first = center.call([*TO_A_CALL_TAKER, wait(600), hangup()], caller="+14105550001")
    second = center.call([*TO_A_CALL_TAKER, press("1", after=1)], caller="+14105550002", at=2)
    third = center.call([*TO_A_CALL_TAKER, wait(600), hangup()], caller="+14105550003", at=4)
    center.sim.run(until=200)
    assert "We will call you back at the number you are calling from, ending in oh oh oh two" \
        in second.heard_text()
    assert second.status == "completed"
    rec = sql_record(center, second.sid)
    assert rec.outcome == "callback" and rec.wait_seconds is not None
    queues, now = center.services.queues, center.clock.now().timestamp()
    assert queues.position(third.sid, now) == 3  # the callback still stands ahead of it
    order = [queues.pop({"line:311"}, now) for _ in range(3)]
    assert [e.call_id for e in order] == [first.sid, second.sid, third.sid]
    assert order[1].callback and not order[0].callback


def test_hanging_up_in_line_is_recorded_as_abandoned_with_its_wait(center) -> None:
    call = center.call([*TO_A_CALL_TAKER, wait(90), hangup()])
    center.run()
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned"
    assert 85 <= rec.wait_seconds <= 120
    (_k, _detail, data), = events(center, call.sid, "abandoned")
    assert data["wait"] == rec.wait_seconds
    assert center.services.queues.position(call.sid, center.clock.now().timestamp()) is None


def test_leave_a_message_from_the_queue(center) -> None:
    call = center.call([*TO_A_CALL_TAKER, press("2", after=1), record(15)])
    center.run()
    assert "leave your name" in call.heard_text()
    assert "Your message has been saved" in call.heard_text()
    assert sql_record(center, call.sid).outcome == "voicemail"
    assert center.services.queues.position(call.sid, center.clock.now().timestamp()) is None


def test_full_queue_runs_the_overflow_step(center_factory) -> None:
    center = center_factory(queues={"general": {"rank": 10, "max_size": 2}})
    waiting = queued_311(center, 2)
    late = center.call([*TO_A_CALL_TAKER, record(10)], at=30)
    center.sim.run(until=300)
    assert "all of our call-takers are still busy" in late.heard_text()
    assert events(center, late.sid, "queue-full")
    assert sql_record(center, late.sid).outcome == "voicemail"
    assert all(NOBODY in c.heard_text() for c in waiting)


def test_waiting_past_max_wait_runs_the_overflow_step(center_factory) -> None:
    center = center_factory(queues={"general": {"rank": 10, "max_wait": 120}})
    call = center.call([*TO_A_CALL_TAKER, record(10)])
    center.run()
    assert "all of our call-takers are still busy" in call.heard_text()
    (_k, detail, data), = events(center, call.sid, "queue-overflow")
    assert data["wait"] >= 120
    assert sql_record(center, call.sid).outcome == "voicemail"


def test_a_silent_caller_in_line_is_never_dropped(center) -> None:
    call = center.call([*TO_A_CALL_TAKER, silence(), silence(), silence(), wait(200), hangup()])
    center.run()
    assert not call.application_error
    assert call.heard_text().count(NOBODY) >= 3
