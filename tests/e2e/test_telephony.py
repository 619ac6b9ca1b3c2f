"""`TwilioTelephony` on its own, against the emulator's REST server (a real localhost port),
with the real app answering the webhooks its requests lead to."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from agents import CallEnded, Reservation, Telephony, TelephonyError
from ivr.sim import answers, busy, hangup, press, wait
from ivr.telephony.adapter import ConnectConfig, TwilioTelephony, conference_name
from ivr.telephony.rest import client_for
from queues import Entry
from tests.conftest import TEST_ACCOUNT
from tests.e2e.conftest import LINE_311

IN_LINE = [press("1"), press("0"), wait(900), hangup()]


def offer(center, call_id: str, rid: str = "T1", agent: str = "alice") -> Reservation:  # type: ignore[no-untyped-def]
    """A reservation as the router would make it, and its link (the app's webhooks read it)."""
    now = center.clock.now().timestamp()
    entry = Entry(call_id, "general", 5, frozenset({"line:311"}), now - 10,
                  {"line": "311", "language": "en-US"})
    center.services.links.open(rid, agent, entry, now)
    return Reservation(rid, agent, entry, now, now + 15)


def test_it_is_the_telephony_agents_expects(center) -> None:
    assert isinstance(center.services.telephony, Telephony)


def test_dequeue_takes_the_chosen_caller_not_twilios_first(center) -> None:
    first = center.call(IN_LINE)
    second = center.call(IN_LINE, caller="+14105550101", at=2)
    center.sim.run(until=60)
    tel = center.services.telephony
    twilio_queue = center.sim.queues.by_name[f"{center.settings.center}-general"]
    assert tel.queue_sid("general") == twilio_queue.sid  # found by name, over REST
    tel.dequeue(offer(center, second.sid))
    center.sim.run(until=65)
    assert [m.call.sid for m in twilio_queue.members()] == [first.sid]
    assert second.events("conference_join")[0]["conference"] == conference_name(second.sid)
    assert "Please hold while we connect you to a call-taker." in second.heard_text()
    conference = tel.conference_sid(second.sid)
    assert conference is not None and conference.startswith("CF")
    tel.hold(conference, second.sid, True, None)
    center.sim.run(until=70)
    assert second.events("hold")
    assert tel.end_conference(second.sid) is True
    center.sim.run(until=75)
    assert tel.conference_sid(second.sid) is None
    assert tel.end_conference(second.sid) is False
    # the conference ended before any call-taker came: the caller is back in line, not dropped
    assert "You keep your place in line." in second.heard_text()
    assert second.status == "in-progress"


def test_a_caller_not_yet_in_twilios_queue_is_moved_by_a_call_redirect(center) -> None:
    call = center.call(IN_LINE)
    center.sim.run(until=42)  # the queue step's prompt is playing: not enqueued yet
    center.services.telephony.dequeue(offer(center, call.sid))
    center.sim.run(until=50)
    assert call.events("redirect")[0]["by"] == "api"
    assert call.events("conference_join")


def test_a_caller_twilio_has_not_yet_answered_is_waited_for_not_taken_for_gone(center) -> None:
    """Offered during the call's first webhook (Twilio still `ringing` it, 21220 to a
    redirect): the accept waits for the answer instead of closing a live call as ended."""
    call = center.call(IN_LINE)
    assert call.status in ("queued", "ringing")
    runner = threading.Timer(0.5, lambda: center.sim.run(until=50))
    runner.start()
    try:
        center.services.telephony.dequeue(offer(center, call.sid))
    finally:
        runner.join()
    center.sim.run(until=60)
    assert call.events("conference_join")


def test_a_caller_never_answered_is_a_telephony_error_not_an_end(center) -> None:
    call = center.call(IN_LINE)
    with pytest.raises(TelephonyError, match="not yet answered") as raised:
        center.services.telephony.dequeue(offer(center, call.sid))
    assert not isinstance(raised.value, CallEnded)  # back in line, not closed


def test_dequeue_of_a_caller_who_hung_up_raises(center) -> None:
    call = center.call([press("1"), press("0"), wait(10), hangup()])
    center.sim.run(until=80)
    assert call.status == "completed"
    with pytest.raises(TelephonyError, match="no longer on the line"):
        center.services.telephony.dequeue(offer(center, call.sid))


def test_dial_agent_rings_the_contact_with_status_callbacks(center) -> None:
    center.sim.on_dial("client:alice", busy())
    call = center.call(IN_LINE)
    center.sim.run(until=60)
    sid = center.services.telephony.dial_agent(offer(center, call.sid, "T2"))
    center.sim.run(until=70)
    leg = center.sim.calls[sid]
    assert (leg.to, leg.from_, leg.direction, leg.status) == (
        "client:alice", LINE_311, "outbound-api", "busy")
    callbacks = [e for e in leg.events("status_callback")]
    assert [e["event"] for e in callbacks] == ["initiated", "ringing", "completed"]
    assert all("/voice/agent/leg-status?resv=T2&leg=agent" in e["url"] for e in callbacks)
    assert all(e["status"] == 204 for e in callbacks)


def test_end_leg_cancels_a_ringing_call_and_ignores_one_that_is_over(center) -> None:
    center.sim.on_dial("client:bob", answers(after=30))
    call = center.call(IN_LINE)
    center.sim.run(until=60)
    tel = center.services.telephony
    sid = tel.dial_agent(offer(center, call.sid, "T3", agent="bob"))
    center.sim.run(until=65)
    assert tel.end_leg(sid) is True
    center.sim.run(until=66)
    assert center.sim.calls[sid].status == "canceled"
    assert tel.end_leg(sid) is False
    assert tel.end_leg(None) is False
    assert tel.redirect(sid, "https://ivr.example.org/voice/agent/join") is False


def test_caller_id_and_contacts(center) -> None:
    tel = center.services.telephony
    assert tel.caller_id("911") == "+14435550911"
    assert tel.caller_id(None) == tel.caller_id("311") == LINE_311
    assert tel.contacts("alice") == "client:alice"
    raw = {**center.settings.raw, "connect": {"caller_id": "+14435550000",
                                              "contact": "sip:{agent}@pbx.example.org"}}
    own = TwilioTelephony(dataclasses.replace(center.settings, raw=raw))
    assert own.caller_id("911") == "+14435550000"
    assert own.contacts("alice") == "sip:alice@pbx.example.org"
    assert TwilioTelephony(center.settings, contacts=lambda a: f"+1410555{a}").contacts("0001") \
        == "+14105550001"
    with pytest.raises(ValueError):
        ConnectConfig.from_settings(dataclasses.replace(
            center.settings, raw={**center.settings.raw, "connect": {"callback_retries": -1}}))


def test_a_refused_request_is_a_telephony_error(center) -> None:
    wrong = client_for(center.settings.api_base, TEST_ACCOUNT, "not-the-token")
    tel = TwilioTelephony(center.settings, client=wrong)
    call = center.call(IN_LINE)
    center.sim.run(until=60)
    with pytest.raises(TelephonyError, match="401"):
        tel.dial_agent(offer(center, call.sid))
    with pytest.raises(TelephonyError):
        tel.end_leg(call.sid)
