"""Callers connected to call-takers, end to end: the emulator plays Twilio (queues, conferences,
the call-takers' phones), the real app routes, offers, dequeues by REST and dials by REST, and
the floor's clock ticks every virtual second.

Times below are virtual seconds since the start of the test. A 311 caller who presses 1 then 0
is in line about 42 s after dialing; offers are accepted 2 s after they are made (at the next
tick); a call-taker's phone answers 3 s after it rings.
"""

from __future__ import annotations

import pytest

from agents import OfferClosed, TelephonyError
from ivr.connect import actions as connect
from ivr.connect.actions import NotConnected
from ivr.sim import StatusPolicy, answers, busy, hangup, no_answer, press, wait
from ivr.sim import record as ivr_record
from tests.conftest import ALL_BACKENDS, Backend
from tests.e2e.conftest import LINE_911
from tests.e2e.floor import IGNORE, REJECT, Floor
from tests.e2e.helpers import events
from tests.e2e.helpers import record as sql_record


@pytest.fixture(scope="session", params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """These calls also run with Redis on the Cluster and behind the Sentinels."""
    return request.getfixturevalue(f"{request.param}_backend")


TO_A_CALL_TAKER = [press("1"), press("0")]  # English, talk to a call-taker
IN_LINE_AT = 42  # when such a caller is in line (virtual seconds)
PATIENT = [*TO_A_CALL_TAKER, wait(900), hangup()]
BOTH_LINES = ("line:311", "line:911")


def kinds(center, sid: str, *only: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(k, d) for k, d, _ in events(center, sid, *only)]


def set_aside(center, agent: str) -> str | None:  # type: ignore[no-untyped-def]
    """The break a call-taker is on, or will be on when their wrap-up ends."""
    p = center.services.agents.get(agent)
    return p.reason if p.state.value == "on_break" else p.pending_break


def conference_of(call) -> str | None:  # type: ignore[no-untyped-def]
    joins = call.events("conference_join")
    return joins[-1]["conference"] if joins else None


def test_offered_accepted_bridged_ended_wrap_up_then_available(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=120))
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 10)
    assert floor.state("alice") == "on_call"
    [leg] = floor.legs("alice")
    assert conference_of(call) == conference_of(leg) == f"call-{call.sid}"
    assert leg.direction == "outbound-api" and leg.from_ == "+14435550311"
    floor.run(until=IN_LINE_AT + 130)
    assert floor.state("alice") == "wrap_up"
    assert "Thank you for calling. Goodbye." in call.heard_text()
    assert call.status == "completed" and call.hung_up_by == "app"
    assert not call.application_error and not leg.application_error
    floor.run(until=IN_LINE_AT + 165)
    assert floor.state("alice") == "available"  # 30 s of wrap-up, then available
    assert [s for _t, s in floor.states["alice"]] == [
        "available", "reserved", "on_call", "wrap_up", "available"]
    trail = kinds(center, call.sid, "offered", "accepted", "bridged", "ended")
    assert trail == [("offered", "alice"), ("accepted", "alice"), ("bridged", "alice"),
                     ("ended", "alice")]
    (_k, _d, bridged), = events(center, call.sid, "bridged")
    (_k, _d, ended), = events(center, call.sid, "ended")
    assert ended["by"] == "agent" and 118 <= ended["talk"] <= 122
    rec = sql_record(center, call.sid)
    assert rec.outcome == "answered"
    assert rec.wait_seconds == bridged["wait"] and 3 <= rec.wait_seconds <= 10
    assert not floor.refused


def test_the_caller_hangs_up_first_the_call_taker_goes_to_wrap_up(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3))  # would talk forever
    call = center.call([*TO_A_CALL_TAKER, wait(50), hangup()])
    floor.run(until=IN_LINE_AT + 60)
    [leg] = floor.legs("alice")
    assert call.status == leg.status == "completed"
    assert "The call has ended." in leg.heard_text()
    assert floor.state("alice") == "wrap_up"
    (_k, _d, ended), = events(center, call.sid, "ended")
    assert ended["by"] == "caller"
    assert sql_record(center, call.sid).outcome == "answered"


def test_a_rejected_call_keeps_its_place_and_goes_to_the_next_call_taker(center) -> None:
    floor = Floor(center)
    floor.login("alice", console=REJECT)
    first = center.call(PATIENT)
    second = center.call(PATIENT, caller="+14105550101", at=5)
    floor.run(until=IN_LINE_AT + 30)
    # alice was offered the first call three times (it stayed first in line), then went on
    # break after three misses in a row
    assert kinds(center, first.sid, "offered", "rejected") == [
        ("offered", "alice"), ("rejected", "alice")] * 3
    alice = center.services.agents.get("alice")
    assert alice.state.value == "on_break" and alice.reason == "missed calls"
    assert not events(center, second.sid, "offered")
    floor.login("bob")
    floor.run(until=IN_LINE_AT + 45)
    assert kinds(center, first.sid, "offered", "accepted", "bridged")[-3:] == [
        ("offered", "bob"), ("accepted", "bob"), ("bridged", "bob")]
    assert conference_of(first) == f"call-{first.sid}"
    assert not events(center, second.sid, "offered")  # still waiting, behind the first
    assert floor.state("bob") == "on_call"


def test_an_offer_not_answered_in_time_goes_to_the_next_call_taker(center) -> None:
    floor = Floor(center)
    floor.login("alice", console=IGNORE)
    floor.run(until=5)
    floor.login("bob")
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 30)
    trail = kinds(center, call.sid, "offered", "expired", "accepted", "bridged")
    assert trail == [("offered", "alice"), ("expired", "alice"), ("offered", "bob"),
                     ("accepted", "bob"), ("bridged", "bob")]
    (_k, _d, expired), = events(center, call.sid, "expired")
    assert expired["offered_for"] == 15.0  # the configured offer timeout
    alice = center.services.agents.get("alice")
    assert alice.state.value == "available" and alice.missed == 1


def test_a_caller_who_hangs_up_while_offered_frees_the_call_taker_at_once(center) -> None:
    floor = Floor(center)
    floor.login("alice", console=IGNORE)
    call = center.call([*TO_A_CALL_TAKER, wait(4), hangup()])
    floor.run(until=IN_LINE_AT + 2)
    assert floor.state("alice") == "reserved"
    floor.run(until=IN_LINE_AT + 8)
    alice = center.services.agents.get("alice")
    assert alice.state.value == "available" and alice.missed == 0
    assert kinds(center, call.sid, "offered", "offer-cancelled", "abandoned") == [
        ("offered", "alice"), ("offer-cancelled", "alice"), ("abandoned", "waited 4 s")]
    assert sql_record(center, call.sid).outcome == "abandoned"
    assert not center.services.router.reservations.all()


@pytest.mark.parametrize("phone, status", [(busy(), "busy"), (no_answer(), "no-answer")])
def test_a_call_takers_phone_that_fails_puts_the_caller_back_in_line(center, phone,
                                                                     status) -> None:
    floor = Floor(center)
    floor.login("alice", phone=phone)
    first = center.call(PATIENT)
    second = center.call(PATIENT, caller="+14105550101", at=8)
    floor.run(until=IN_LINE_AT + 40)
    [leg] = floor.legs("alice")
    assert leg.status == status
    (_k, detail, failed), = events(center, first.sid, "agent-leg-failed")
    assert detail == status and failed["agent"] == "alice"
    assert "You keep your place in line." in first.heard_text()
    assert first.events("conference_leave") and first.status == "in-progress"
    # the call-taker is set aside after wrap-up, so the next caller is not sent to that phone
    assert set_aside(center, "alice") == "phone did not answer"
    floor.login("bob")
    floor.run(until=IN_LINE_AT + 55)
    assert kinds(center, first.sid, "requeued", "offered", "bridged")[-3:] == [
        ("requeued", "after alice"), ("offered", "bob"), ("bridged", "bob")]
    assert not events(center, second.sid, "offered")  # the first kept its place
    assert not first.application_error
    assert sql_record(center, first.sid).queued_at is not None


def test_a_caller_sent_back_to_a_class_that_filled_up_meanwhile_gets_its_overflow_step(
        center_factory) -> None:
    """The requeue of a failed leg meets a full class: the connect room hands the caller to the
    flow's overflow step through the CallHooks seam (voice runs it), never to silence."""
    center = center_factory(queues={"general": {"rank": 10, "max_size": 1}})
    floor = Floor(center)
    floor.login("alice", phone=no_answer())  # rings 20 s, then the leg fails
    first = center.call([*TO_A_CALL_TAKER, ivr_record(10)])
    second = center.call(PATIENT, caller="+14105550101", at=8)  # takes the only place meanwhile
    floor.run(until=IN_LINE_AT + 60)
    assert kinds(center, first.sid, "agent-leg-failed", "queue-full")[:2] == [
        ("agent-leg-failed", "no-answer"), ("queue-full", "general")]
    assert "all of our call-takers are still busy" in first.heard_text()
    assert "You keep your place in line." not in first.heard_text()
    assert not first.application_error
    assert events(center, second.sid, "enqueue")
    center.run()
    assert sql_record(center, first.sid).outcome == "voicemail"


def test_a_call_taker_who_drops_after_the_bridge_ends_the_call_with_a_goodbye(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=1, hangup_after=0.5))  # picks up, drops at once
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 20)
    assert kinds(center, call.sid, "bridged", "agent-leg-failed", "ended") == [
        ("bridged", "alice"), ("ended", "alice")]
    assert "Thank you for calling. Goodbye." in call.heard_text()  # never silence
    assert call.status == "completed" and floor.state("alice") == "wrap_up"


def test_a_call_taker_who_hangs_up_before_the_resident_answers_is_a_failed_leg(center) -> None:
    floor = Floor(center)
    resident = "+14105550179"
    call = center.call([*TO_A_CALL_TAKER, press("1", after=1)], caller=resident)
    floor.run(until=100)
    center.sim.on_dial(resident, answers(after=25, hangup_after=30))
    floor.login("alice", phone=answers(after=3, hangup_after=10))  # gives up after 10 s
    floor.run(until=130)
    [first] = [c for c in center.sim.calls.values() if c.to == resident]
    assert first.status == "canceled"  # the ringing resident is not left with nobody there
    (_k, detail, _data), = events(center, call.sid, "agent-leg-failed")
    assert detail == "left before the caller was connected"
    assert set_aside(center, "alice") == "phone did not answer"
    floor.login("bob", phone=answers(after=3))
    floor.run(until=200)
    assert kinds(center, call.sid, "offered", "callback-attempt", "bridged")[-3:] == [
        ("offered", "bob"), ("callback-attempt", "attempt 1"), ("bridged", "bob")]
    assert kinds(center, call.sid, "callback-result") == [("callback-result", "answered")]


def test_911_is_offered_before_an_older_311_call(center) -> None:
    floor = Floor(center)
    resident = center.call(PATIENT)
    emergency = center.call([wait(900), hangup()], line=LINE_911, caller="+14105559111", at=50)
    floor.run(until=60)
    assert not events(center, emergency.sid, "offered")
    floor.login("carol", skills=BOTH_LINES, phone=answers(after=3, hangup_after=60))
    floor.run(until=70)
    assert kinds(center, emergency.sid, "offered", "bridged") == [
        ("offered", "carol"), ("bridged", "carol")]
    assert not events(center, resident.sid, "offered")
    assert conference_of(emergency) == f"call-{emergency.sid}"
    floor.run(until=170)  # 60 s of talk, 30 s of wrap-up: then the 311 caller
    assert kinds(center, resident.sid, "offered", "bridged") == [
        ("offered", "carol"), ("bridged", "carol")]


def test_hold_and_resume_the_caller(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=120))
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 20)
    with pytest.raises(NotConnected):
        connect.hold(center.services, "CA-not-a-call")
    heard_before = len(call.heard())
    connect.hold(center.services, call.sid)
    floor.run(until=IN_LINE_AT + 40)
    connect.resume(center.services, call.sid)
    floor.run(until=IN_LINE_AT + 50)
    assert [e.kind for e in call.events("hold", "unhold")] == ["hold", "unhold"]
    held = call.heard()[heard_before:]
    assert "The call-taker has put you on hold for a moment. Please stay on the line." in held
    assert "Please hold while we connect you to a call-taker." not in held
    assert [k for k, _ in kinds(center, call.sid, "hold", "resume")] == ["hold", "resume"]


def test_the_call_taker_ends_the_call_from_the_console(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3))
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 30)
    presence = connect.hang_up(center.services, "alice")
    assert presence.state.value == "wrap_up"
    floor.run(until=IN_LINE_AT + 40)
    [leg] = floor.legs("alice")
    assert call.status == leg.status == "completed"
    assert "Thank you for calling. Goodbye." in call.heard_text()
    (_k, _d, ended), = events(center, call.sid, "ended")
    assert ended["by"] == "console"


def test_a_callback_dials_the_resident_and_retries_when_nobody_answers(center) -> None:
    floor = Floor(center)
    resident = "+14105550177"
    call = center.call([*TO_A_CALL_TAKER, press("1", after=1)], caller=resident)
    floor.run(until=100)
    assert sql_record(center, call.sid).outcome == "callback" and call.status == "completed"
    center.sim.on_dial(resident, [no_answer(), answers(after=4, hangup_after=60)])
    floor.login("alice", phone=answers(after=3))
    floor.run(until=160)
    # first attempt: nobody answered in 30 s; alice was released, the retry waits 60 s
    assert kinds(center, call.sid, "offered", "accepted", "callback-attempt",
                 "callback-no-answer", "callback-retry") == [
        ("offered", "alice"), ("accepted", "alice"), ("callback-attempt", "attempt 1"),
        ("callback-no-answer", "no-answer"), ("callback-retry", "attempt 2")]
    assert floor.state("alice") in ("wrap_up", "available")
    floor.run(until=330)
    attempts = [c for c in center.sim.calls.values() if c.to == resident]
    assert [c.status for c in attempts] == ["no-answer", "completed"]
    answered = attempts[1]
    assert "returning your call" in answered.heard_text()
    assert conference_of(answered) == f"call-{call.sid}"
    assert conference_of(floor.legs("alice")[-1]) == f"call-{call.sid}"
    assert kinds(center, call.sid, "callback-attempt", "bridged", "callback-result", "ended") == [
        ("callback-attempt", "attempt 1"), ("callback-attempt", "attempt 2"),
        ("bridged", "alice"), ("callback-result", "answered"), ("ended", "alice")]
    assert sql_record(center, call.sid).outcome == "callback"


def test_a_callback_nobody_answers_is_given_up_after_its_retries(center) -> None:
    floor = Floor(center)
    resident = "+14105550178"
    call = center.call([*TO_A_CALL_TAKER, press("1", after=1)], caller=resident)
    floor.run(until=100)
    center.sim.on_dial(resident, busy())
    floor.login("alice", phone=answers(after=3))
    floor.run(until=600)
    assert [c.status for c in center.sim.calls.values() if c.to == resident] == ["busy"] * 3
    assert kinds(center, call.sid, "callback-result") == [("callback-result", "unreachable")]
    assert center.services.queues.position(call.sid, floor.now()) is None
    assert floor.state("alice") == "available"


def test_late_repeated_and_shuffled_status_callbacks_change_nothing(center) -> None:
    center.sim.status.policy = StatusPolicy(delay=20, duplicate=True, shuffle=True, seed=7)
    floor = Floor(center)
    floor.login("alice", phone=busy())
    first = center.call(PATIENT)
    second = center.call([*TO_A_CALL_TAKER, wait(200), hangup()], caller="+14105550101", at=3)
    floor.run(until=IN_LINE_AT + 40)
    floor.login("bob", phone=answers(after=3, hangup_after=60))
    floor.run(until=400)
    # alice's busy phone was only known from its (late) status callback; the caller waited in
    # the conference meanwhile, then went back to the head of the line
    assert [k for k, _ in kinds(center, first.sid, "agent-leg-failed", "requeued", "bridged",
                                "ended")] == ["agent-leg-failed", "requeued", "bridged", "ended"]
    assert [k for k, _ in kinds(center, second.sid, "bridged", "ended")] == ["bridged", "ended"]
    assert sql_record(center, first.sid).outcome == "answered"
    assert sql_record(center, second.sid).outcome == "answered"
    assert floor.state("bob") == "available" and floor.state("alice") == "on_break"
    assert not center.services.router.reservations.all()
    assert not first.application_error and not second.application_error


def test_a_caller_who_hangs_up_while_the_call_takers_phone_rings(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=15))
    call = center.call([*TO_A_CALL_TAKER, wait(6), hangup()])
    floor.run(until=IN_LINE_AT + 20)
    [leg] = floor.legs("alice")
    assert leg.status == "canceled"  # the ringing phone stops at once
    assert floor.state("alice") == "wrap_up" and set_aside(center, "alice") is None
    assert [k for k, _ in kinds(center, call.sid, "accepted", "caller-gone", "bridged")] == [
        "accepted", "caller-gone"]
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned" and 3 <= rec.wait_seconds <= 8


def test_when_twilio_refuses_the_accept_the_caller_stays_in_line(center) -> None:
    from ivr.telephony.rest import client_for
    from tests.conftest import TEST_ACCOUNT

    floor = Floor(center)
    floor.login("alice", console=IGNORE)
    call = center.call(PATIENT)
    floor.run(until=IN_LINE_AT + 5)
    [offer] = center.services.router.reservations.all()
    tel = center.services.telephony
    good, tel._client = tel._client, client_for(center.settings.api_base, TEST_ACCOUNT, "wrong")
    with pytest.raises(TelephonyError):
        connect.accept(center.services, offer.reservation_id, "alice")
    tel._client = good
    assert center.services.queues.position(call.sid, floor.now()) == 1
    assert [k for k, _ in kinds(center, call.sid, "accepted", "bridge-failed")] == [
        "accepted", "bridge-failed"]
    assert floor.state("alice") == "wrap_up"
    with pytest.raises(OfferClosed):  # an offer is accepted once
        connect.accept(center.services, offer.reservation_id, "alice")
    floor.login("bob")
    floor.run(until=IN_LINE_AT + 20)
    assert kinds(center, call.sid, "bridged") == [("bridged", "bob")]
    assert not call.application_error
