"""Warm and cold transfers to dispatch centers, end to end: the emulator plays Twilio (the
conference, Participants add/hold/unhold/remove, the dispatch line's phone), the real app
decides, and every step lands in SQL.

Timeline (virtual seconds): a 311 caller is in line at 42; alice accepts at the next tick and
her phone answers 3 s later, so the call is bridged by about 47. Transfers start at 60.
"""

from __future__ import annotations

import pytest

from ivr.sim import answers, busy, fails, hangup, no_answer, wait
from ivr.transfers import actions as transfers
from tests.e2e.floor import Floor
from tests.e2e.helpers import events
from tests.e2e.helpers import record as sql_record
from tests.e2e.test_connect import PATIENT, TO_A_CALL_TAKER
from tests.e2e.transfer_support import (
    PSAP,
    PSAP_BACKUP,
    dispatch_center,
    dispatch_legs,
    handoff,
    steps,
    transfers_of,
)
from tests.ivr.pidf_check import civic

START = 60
HOLD_TEXT = "We are connecting you with emergency services."


@pytest.fixture
def center(settings):  # type: ignore[no-untyped-def]
    c = dispatch_center(settings)
    yield c
    c.close()


def on_call(center, alice_phone=None, caller_script=PATIENT, **call):  # type: ignore[no-untyped-def]
    floor = Floor(center)
    floor.login("alice", phone=alice_phone or answers(after=3, hangup_after=600))
    caller = center.call(caller_script, **call)
    floor.run(until=START)
    assert floor.state("alice") == "on_call"
    return floor, caller


def on_call_with_one_behind(center, alice_phone=None):  # type: ignore[no-untyped-def]
    """alice on a call; another 311 caller in line behind it since ~47."""
    floor = Floor(center)
    floor.login("alice", phone=alice_phone or answers(after=3, hangup_after=600))
    caller = center.call(PATIENT)
    other = center.call(PATIENT, caller="+14105550177", at=5)
    floor.run(until=START)
    assert floor.state("alice") == "on_call"
    assert center.services.queues.position(other.sid, center.clock.now().timestamp()) == 1
    return floor, caller, other


def kinds(center, sid: str, *only: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [k for k, _d, _x in events(center, sid, *only)]


def held(call) -> bool:  # type: ignore[no-untyped-def]
    p = call.participant
    return bool(p is not None and p.hold)


def test_complete_caller_and_dispatcher_stay_the_call_taker_leaves(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5, hangup_after=60))
    floor, caller = on_call(center)
    t = transfers.start_warm(center.services, caller.sid, "alice", "psap",
                             location="42 Elm St", note="smell of gas in the basement")
    assert t.state == "dialing" and t.mode == "warm"
    floor.run(until=START + 1)
    assert held(caller)
    floor.run(until=START + 10)
    [leg] = dispatch_legs(center)
    assert transfers.current(center.services, caller.sid).state == "briefing"
    assert held(caller) and leg.participant is not None  # briefing: the caller still holds
    transfers.complete(center.services, caller.sid, "alice")
    floor.run(until=START + 15)
    assert not held(caller) and caller.participant is not None and leg.participant is not None
    assert floor.state("alice") == "wrap_up"
    [alice_leg] = floor.legs("alice")
    assert alice_leg.status == "completed"
    floor.run(until=START + 80)  # the dispatcher hangs up 60 s after answering
    assert caller.status == "completed" and caller.hung_up_by == "app"
    assert "Goodbye" in caller.heard_text() and HOLD_TEXT in caller.heard_text()
    assert not caller.application_error and not leg.application_error
    [done] = transfers_of(center, caller.sid)
    assert done.state == "completed" and done.answered_at is not None
    assert steps(center, done.id) == [
        "started", "dialing", "briefing", "completed", "call-taker-left"]
    assert [k for k in kinds(center, caller.sid) if k.startswith("transfer")] == [
        "transfer-started", "transfer-answered", "transfer-completed"]
    assert sql_record(center, caller.sid).outcome == "transferred"
    doc = handoff(center, done.id).payload
    assert doc["locationComponent"][0]["locationDescriptionText"] == "42 Elm St"
    assert civic(doc["locationComponent"][0]["locationByValue"])["RD"] == "Elm"
    assert doc["notesComponent"][0]["notesActionComments"] == "smell of gas in the basement"


def test_cancel_drops_the_dispatch_leg_and_the_caller_is_back(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5))
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 10)
    transfers.cancel(center.services, caller.sid, "alice")
    floor.run(until=START + 12)
    [leg] = dispatch_legs(center)
    assert leg.status == "completed" and leg.participant is None
    assert not held(caller) and caller.participant is not None
    assert floor.state("alice") == "on_call"
    [t] = transfers_of(center, caller.sid)
    assert t.state == "cancelled" and steps(center, t.id)[-1] == "cancelled"
    assert center.services.links.for_call(caller.sid).transfer is None
    # The call goes on as any call: alice ends it, the caller hears goodbye.
    from ivr.connect import actions as connect

    connect.hang_up(center.services, "alice")
    floor.run(until=START + 15)
    assert caller.status == "completed" and "Goodbye" in caller.heard_text()
    assert sql_record(center, caller.sid).outcome == "answered"


@pytest.mark.parametrize(("party", "status", "by"), [
    (busy(after=2), "busy", START + 5),
    (no_answer(), "no-answer", START + 33),
    (fails(after=1), "failed", START + 5),
])
def test_a_failed_line_brings_the_caller_back_with_the_offers(center, party, status, by) -> None:
    center.sim.on_dial(PSAP, party)
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=by)
    [t] = transfers_of(center, caller.sid)
    assert (t.state, t.reason) == ("failed", status)
    assert not held(caller) and caller.participant is not None
    assert [e.kind for e in caller.events("hold", "unhold")] == ["hold", "unhold"]
    assert floor.state("alice") == "on_call"
    assert transfers.options(center.services, t) == {
        "complete": False, "cancel": False, "secondary": True, "cold": True}
    assert "transfer-failed" in kinds(center, caller.sid)
    assert not caller.application_error


def test_secondary_destination_after_a_busy_primary(center) -> None:
    center.sim.on_dial(PSAP, busy(after=2))
    center.sim.on_dial(PSAP_BACKUP, answers(after=4, hangup_after=30))
    floor, caller = on_call(center)
    first = transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 5)
    second = transfers.retry_secondary(center.services, caller.sid, "alice")
    assert second.destination == "secondary" and second.previous == first.id
    assert second.dialed == PSAP_BACKUP
    floor.run(until=START + 12)
    transfers.complete(center.services, caller.sid, "alice")
    floor.run(until=START + 50)
    [a, b] = transfers_of(center, caller.sid)
    assert (a.state, b.state) == ("failed", "completed")
    assert caller.status == "completed" and "Goodbye" in caller.heard_text()
    assert [c.status for c in dispatch_legs(center, PSAP_BACKUP)] == ["completed"]
    assert sql_record(center, caller.sid).outcome == "transferred"


def test_cold_transfer_the_call_taker_is_free_at_once(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5, hangup_after=30))
    floor, caller = on_call(center)
    transfers.start_cold(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 3)
    assert floor.state("alice") == "wrap_up"
    floor.run(until=START + 60)
    [t] = transfers_of(center, caller.sid)
    assert (t.mode, t.state) == ("cold", "connected")
    assert caller.status == "completed" and not caller.application_error
    assert HOLD_TEXT in caller.heard_text()
    assert sql_record(center, caller.sid).outcome == "transferred"


def test_cold_transfer_to_a_busy_line_goes_back_in_line_at_the_front(center) -> None:
    center.sim.on_dial(PSAP, busy(after=2))
    floor, caller, other = on_call_with_one_behind(center)
    transfers.start_cold(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 15)  # busy at ~67: back in line, ahead of the other caller
    [t] = transfers_of(center, caller.sid)
    assert (t.state, t.reason) == ("failed", "busy")
    queues = center.services.queues
    now = center.clock.now().timestamp()
    assert queues.position(caller.sid, now) == 1 and queues.position(other.sid, now) == 2
    assert "requeued" in kinds(center, caller.sid)
    floor.login("bob")
    floor.run(until=START + 25)
    assert center.services.agents.get("bob").call_id == caller.sid
    assert not caller.application_error


def test_held_caller_hangs_up_abandoned_and_nobody_left_in_a_dead_conference(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5))
    floor, caller = on_call(center, hangup_after=START + 15)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 20)
    [leg] = dispatch_legs(center)
    [alice_leg] = floor.legs("alice")
    assert caller.status == "completed" and caller.hung_up_by == "caller"
    assert leg.status == "completed" and alice_leg.status == "completed"
    [t] = transfers_of(center, caller.sid)
    assert t.state == "abandoned"
    assert "abandoned-during-transfer" in kinds(center, caller.sid)
    assert sql_record(center, caller.sid).outcome == "abandoned"
    assert floor.state("alice") == "wrap_up"
    assert not center.sim.conferences.active


def test_call_taker_hangs_up_before_the_dispatcher_answers_the_caller_reaches_them(
        center) -> None:
    center.sim.on_dial(PSAP, answers(after=12, hangup_after=30))
    # alice's phone hangs up 15 s after answering (~62), while the dispatch line rings
    floor, caller = on_call(center, alice_phone=answers(after=3, hangup_after=15))
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 8)
    assert floor.state("alice") == "wrap_up" and held(caller)  # alone, but on hold music
    floor.run(until=START + 14)
    assert not held(caller)  # the dispatcher answered: straight to the caller
    [t] = transfers_of(center, caller.sid)
    assert t.state == "completed" and t.agent_left_at is not None
    assert "call-taker-left" in steps(center, t.id)
    floor.run(until=START + 60)
    assert caller.status == "completed" and "Goodbye" in caller.heard_text()
    assert sql_record(center, caller.sid).outcome == "transferred"


def test_call_taker_gone_and_the_line_unanswered_back_in_line_at_the_front(center) -> None:
    center.sim.on_dial(PSAP, no_answer())
    floor, caller, other = on_call_with_one_behind(
        center, alice_phone=answers(after=3, hangup_after=15))
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 31)  # 30 s of ringing, then no answer
    [t] = transfers_of(center, caller.sid)
    assert (t.state, t.reason) == ("failed", "no-answer")
    now = center.clock.now().timestamp()
    assert center.services.queues.position(caller.sid, now) == 1
    assert center.services.queues.position(other.sid, now) == 2
    assert caller.status == "in-progress" and not caller.application_error
    floor.run(until=START + 45)
    assert len(kinds(center, caller.sid, "bridged")) == 2  # taken again, before the other
    assert not kinds(center, other.sid, "bridged")


def test_dispatcher_hangs_up_during_briefing_the_caller_is_back(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5, hangup_after=8))
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 20)
    [t] = transfers_of(center, caller.sid)
    assert (t.state, t.reason) == ("failed", "dispatcher-left")
    assert not held(caller) and caller.participant is not None
    assert floor.state("alice") == "on_call"
    assert transfers.options(center.services, t)["secondary"]


def test_no_transfer_twice_nor_of_someone_elses_call(center) -> None:
    center.sim.on_dial(PSAP, answers(after=20))
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    with pytest.raises(transfers.TransferRefused) as twice:
        transfers.start_warm(center.services, caller.sid, "alice", "psap")
    assert twice.value.code == "transfer_in_progress"
    with pytest.raises(transfers.TransferRefused) as other:
        transfers.cancel(center.services, caller.sid, "mallory")
    assert other.value.code == "not_your_call"
    with pytest.raises(transfers.TransferRefused) as early:
        transfers.complete(center.services, caller.sid, "alice")
    assert early.value.code == "not_briefing"
    _ = (wait, hangup, TO_A_CALL_TAKER)


def test_caller_hangs_up_after_completion_the_dispatcher_is_not_left_alone(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5))  # would stay on forever
    floor, caller = on_call(center, hangup_after=START + 40)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 10)
    transfers.complete(center.services, caller.sid, "alice")
    floor.run(until=START + 45)
    [leg] = dispatch_legs(center)
    assert caller.status == "completed" and caller.hung_up_by == "caller"
    assert leg.status == "completed" and not center.sim.conferences.active
    assert sql_record(center, caller.sid).outcome == "transferred"


@pytest.mark.parametrize("dispatcher", [answers(after=5, hangup_after=30), busy(after=2)])
def test_late_repeated_and_reordered_callbacks_change_nothing(center, dispatcher) -> None:
    from ivr.sim import StatusPolicy

    center.sim.status.policy = StatusPolicy(duplicate=True, shuffle=True, delay=1.5, seed=7)
    center.sim.on_dial(PSAP, dispatcher)
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    for second in range(1, 25):  # whenever the (late) answered callback makes it briefing
        floor.run(until=START + second)
        if transfers.current(center.services, caller.sid).state == "briefing":
            transfers.complete(center.services, caller.sid, "alice")
            break
    floor.run(until=START + 60)
    [t] = transfers_of(center, caller.sid)
    assert t.state in ("completed", "failed")
    recorded = steps(center, t.id)
    assert len(recorded) == len(set(recorded))  # each step once, however often reported
    assert not caller.application_error
    if t.state == "completed":
        assert caller.status == "completed" and "Goodbye" in caller.heard_text()
    else:
        assert t.reason == "busy" and not held(caller) and caller.status == "in-progress"


def test_call_taker_leaving_while_briefing_hands_the_caller_over(center) -> None:
    center.sim.on_dial(PSAP, answers(after=5, hangup_after=40))
    floor, caller = on_call(center)
    transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 10)
    assert transfers.current(center.services, caller.sid).state == "briefing"
    from ivr.connect import actions as connect

    connect.hang_up(center.services, "alice")  # "End call" in the console, mid-briefing
    floor.run(until=START + 12)
    assert not held(caller) and caller.participant is not None
    [t] = transfers_of(center, caller.sid)
    assert (t.state, t.reason) == ("completed", "call-taker left while briefing")
    assert floor.state("alice") == "wrap_up"
    floor.run(until=START + 60)
    assert caller.status == "completed" and "Goodbye" in caller.heard_text()
    assert sql_record(center, caller.sid).outcome == "transferred"


def test_a_late_event_of_the_first_dispatch_leg_does_not_touch_the_retry(center) -> None:
    from ivr.transfers import events as transfer_events

    center.sim.on_dial(PSAP, answers(after=5, hangup_after=5))
    center.sim.on_dial(PSAP_BACKUP, answers(after=20))
    floor, caller = on_call(center)
    first = transfers.start_warm(center.services, caller.sid, "alice", "psap")
    floor.run(until=START + 12)
    assert transfers.current(center.services, caller.sid).reason == "dispatcher-left"
    second = transfers.retry_secondary(center.services, caller.sid, "alice")
    floor.run(until=START + 14)
    link = center.services.links.for_call(caller.sid)
    now = center.clock.now().timestamp()
    for event in ("participant-leave", "participant-join", "participant-leave"):  # replayed
        transfer_events.participant_event(center.services, link, event, first.leg_sid, now)
    assert transfers.current(center.services, caller.sid).id == second.id
    assert transfers.current(center.services, caller.sid).state == "dialing"
    assert held(caller)
