"""Conference participants as a warm transfer uses them (TWILIO.md: Participants resources and
the warm-transfer failure modes): a party added by REST rings, fails or joins; hold plays the
HoldUrl in a loop; EndConferenceOnExit decides who ends the conference, and cannot change
while a participant is on hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import ACCOUNT, CALLER, NUMBER, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator, answers, busy, no_answer
from ivr.telephony.rest import client_for

DISPATCH = "+14105550911"
EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def served(app: App) -> Iterator[tuple[Emulator, Client]]:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial(action="/after-dial").conference(
            "room", start_conference_on_enter=True, end_conference_on_exit=False,
            status_callback="/conf", status_callback_event="start end join leave hold")
        r.say("after the conference")
        return twiml(r)

    @app.post("/after-dial")
    def after_dial():
        return twiml(VoiceResponse().say("back from the conference"))

    @app.post("/hold-music")
    def hold_music():
        r = VoiceResponse()
        r.say("please stay on the line")
        r.pause(length=5)
        return twiml(r)

    @app.post("/leg")
    def leg():
        return "", 204

    @app.post("/conf")
    def conf():
        return "", 204

    sim = make_sim(app)
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN)
    sim.stop_rest()


def _room(sim: Emulator, client: Client):  # type: ignore[no-untyped-def]
    caller = sim.place_call(Caller(CALLER, NUMBER, hangup_after=600))
    sim.advance(3)
    [conf] = client.conferences.list(friendly_name="room", status="in-progress")
    return caller, conf


def _add(client: Client, conf, timeout: int = 20):  # type: ignore[no-untyped-def]
    return client.conferences(conf.sid).participants.create(
        from_=NUMBER, to=DISPATCH, timeout=timeout, label="dispatch",
        status_callback="https://ivr.example.org/leg", status_callback_event=EVENTS,
        end_conference_on_exit=False)


def _leg_statuses(app: App, sid: str) -> list[str]:
    return [r.params["CallStatus"] for r in app.hits("/leg") if r.params["CallSid"] == sid]


def _conf_events(app: App) -> list[tuple[str, str]]:
    return [(r.params["StatusCallbackEvent"], r.params.get("CallSid", ""))
            for r in app.hits("/conf")]


@pytest.mark.parametrize(("party", "after", "status"), [
    (busy(after=2), 5, "busy"), (no_answer(), 25, "no-answer")])
def test_an_added_party_that_does_not_answer_reports_it_and_never_joins(
        served, app: App, party, after: float, status: str) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    sim.on_dial(DISPATCH, party)
    _caller, conf = _room(sim, client)
    added = _add(client, conf, timeout=20)
    sim.advance(after)
    assert _leg_statuses(app, added.call_sid)[-1] == status
    assert sim.calls[added.call_sid].status == status
    assert added.call_sid not in {e[1] for e in _conf_events(app)}
    assert all(r.signed for r in app.received)


def test_hold_plays_the_hold_url_in_a_loop_until_unheld(served, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    sim.on_dial(DISPATCH, answers(after=4))
    caller, conf = _room(sim, client)
    added = _add(client, conf)
    sim.advance(5)
    assert _leg_statuses(app, added.call_sid)[-1] == "in-progress"  # answered, in the room
    assert ("participant-join", added.call_sid) in _conf_events(app)
    held = client.conferences(conf.sid).participants(caller.sid).update(
        hold=True, hold_url="https://ivr.example.org/hold-music", hold_method="POST")
    assert held.hold is True
    sim.advance(20)
    fetched = [r for r in app.hits("/hold-music") if r.params["CallSid"] == caller.sid]
    assert len(fetched) >= 2  # re-requested each time its verbs run out
    assert "please stay on the line" in caller.heard_text()
    assert ("participant-hold", caller.sid) in _conf_events(app)
    client.conferences(conf.sid).participants(caller.sid).update(hold=False)
    before = len(app.hits("/hold-music"))
    sim.advance(20)
    assert len(app.hits("/hold-music")) == before  # the music stopped
    assert caller.participant is not None and not caller.participant.hold


def test_end_conference_on_exit_cannot_change_while_held(served, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    sim.on_dial(DISPATCH, answers(after=1))
    caller, conf = _room(sim, client)
    added = _add(client, conf)
    sim.advance(3)
    participants = client.conferences(conf.sid).participants
    participants(caller.sid).update(hold=True)
    with pytest.raises(TwilioRestException) as refused:
        participants(caller.sid).update(end_conference_on_exit=True)
    assert refused.value.status == 400
    with pytest.raises(TwilioRestException):
        participants(caller.sid).update(hold=True, end_conference_on_exit=True)
    participants(caller.sid).update(hold=False)
    assert participants(caller.sid).update(end_conference_on_exit=True).end_conference_on_exit
    # Now the caller's exit ends the conference: the added party is hung up with it.
    sim.hangup(caller)
    sim.advance(2)
    assert client.conferences(conf.sid).fetch().status == "completed"
    assert sim.calls[added.call_sid].status == "completed"


def test_a_held_caller_hanging_up_with_end_on_exit_ends_the_conference(app: App) -> None:
    """TWILIO.md's first failure mode, as Twilio's own warm-transfer sample sets it up."""
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial().conference("sample", start_conference_on_enter=True, end_conference_on_exit=True)
        return twiml(r)

    @app.post("/agent")
    def agent():
        r = VoiceResponse()
        r.dial(action="/agent-after").conference("sample", end_conference_on_exit=False)
        return twiml(r)

    @app.post("/agent-after")
    def agent_after():
        return twiml(VoiceResponse().say("the conference is over"))

    sim = make_sim(app)
    client = client_for(sim.serve_rest(), ACCOUNT, TOKEN)
    try:
        sim.on_dial("client:agent", answers(after=1))
        caller = sim.place_call(Caller(CALLER, NUMBER, hangup_after=20))
        sim.advance(2)
        agent = client.calls.create(to="client:agent", from_=NUMBER,
                                    url="https://ivr.example.org/agent")
        sim.advance(3)
        [conf] = client.conferences.list(friendly_name="sample", status="in-progress")
        client.conferences(conf.sid).participants(caller.sid).update(hold=True)
        sim.advance(20)  # the held caller hangs up at 20 s
        assert client.conferences(conf.sid).fetch().status == "completed"
        assert "the conference is over" in sim.calls[agent.sid].heard_text()
    finally:
        sim.stop_rest()


def test_removing_a_participant_hangs_up_a_leg_without_twiml_of_its_own(served, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    sim.on_dial(DISPATCH, answers(after=1))
    caller, conf = _room(sim, client)
    added = _add(client, conf)
    sim.advance(3)
    client.conferences(conf.sid).participants(added.call_sid).delete()
    sim.advance(1)
    assert sim.calls[added.call_sid].status == "completed"
    assert ("participant-leave", added.call_sid) in _conf_events(app)
    assert _leg_statuses(app, added.call_sid)[-1] == "completed"
    assert caller.participant is not None  # the others stay
