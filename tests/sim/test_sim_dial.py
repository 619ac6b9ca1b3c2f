"""`<Dial>`: parties' outcomes, child legs, forwarding to an emulated number, conferences."""

from __future__ import annotations

import pytest
from flask import request
from sim_helpers import ACCOUNT, CALLER, NUMBER, PUBLIC, TOKEN, App, make_sim, twiml
from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.sim import (
    Caller,
    Emulator,
    NumberConfig,
    WSGITransport,
    answers,
    busy,
    fails,
    hangup,
    no_answer,
    press,
    wait,
)

DISPATCH = "+14105550911"


def dial_app(app: App, action: bool = True, **dial_kw) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Transferring")
        r.dial(DISPATCH, action="/dialed" if action else None, timeout=20, **dial_kw)
        r.say("after the dial")
        return twiml(r)

    @app.post("/dialed")
    def dialed():
        return twiml(VoiceResponse().say("Dial " + request.form["DialCallStatus"]))


@pytest.mark.parametrize(("party", "status", "ended_at"), [
    (busy(after=3), "busy", 0.4 + 3),
    (no_answer(), "no-answer", 0.4 + 20),  # Dial timeout
    (answers(after=25), "no-answer", 0.4 + 20),  # answers too late
    (fails(), "failed", 0.4 + 0.5),
])
def test_a_party_that_does_not_answer(app: App, party, status: str, ended_at: float) -> None:
    dial_app(app)
    sim = make_sim(app)
    sim.on_dial(DISPATCH, party)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    params = app.hits("/dialed")[0].params
    assert params["DialCallStatus"] == status and "DialCallDuration" not in params
    assert call.heard()[-1] == f"Dial {status}"
    assert call.events("dial_result")[0].t == pytest.approx(ended_at)
    leg = sim.calls[params["DialCallSid"]]
    assert leg.status == status and leg.parent_sid == call.sid


def test_an_answering_party_is_bridged_until_it_hangs_up(app: App) -> None:
    dial_app(app, caller_id="+14155550311")
    sim = make_sim(app)
    sim.on_dial(DISPATCH, answers(after=4, hangup_after=30))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    params = app.hits("/dialed")[0].params
    assert (params["DialCallStatus"], params["DialCallDuration"], params["DialBridged"]) == (
        "completed", "30", "true")
    leg = sim.calls[params["DialCallSid"]]
    assert (leg.direction, leg.parent_sid, leg.from_, leg.to) == (
        "outbound-dial", call.sid, "+14155550311", DISPATCH)
    assert leg.params()["ParentCallSid"] == call.sid and leg.status == "completed"
    assert call.events("bridged")[0].t == pytest.approx(0.4 + 4)
    assert call.heard()[-1] == "Dial completed"


def test_without_action_the_call_goes_on_after_the_dial(app: App) -> None:
    dial_app(app, action=False)
    sim = make_sim(app)
    sim.on_dial(DISPATCH, busy())
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert call.heard() == ["Transferring", "after the dial"]


def test_the_caller_hanging_up_ends_the_bridge_and_still_requests_the_action(app: App) -> None:
    dial_app(app)
    sim = make_sim(app)
    sim.on_dial(DISPATCH, answers(after=2))
    call = sim.place_call(Caller(CALLER, NUMBER, script=[wait(60), hangup()]))
    sim.run_until_idle()
    params = app.hits("/dialed")[0].params
    assert (params["DialCallStatus"], params["CallStatus"]) == ("completed", "completed")
    assert params["DialCallDuration"] == "58"  # bridged at 2.4 s, hung up at 60 s
    assert sim.calls[params["DialCallSid"]].status == "completed"
    assert call.heard() == ["Transferring"]  # the action's answer is not played
    assert call.hung_up_by == "caller" and call.ended_t == 60


def test_dialing_an_emulated_number_makes_a_new_inbound_call(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial(DISPATCH, action="/dialed")
        return twiml(r)

    @app.post("/dispatch")
    def dispatch():
        r = VoiceResponse()
        r.gather(num_digits=1, action="/dispatch-menu").say("Dispatch. Press one.")
        return twiml(r)

    @app.post("/dispatch-menu")
    def dispatch_menu():
        return twiml(VoiceResponse().say("Dispatch got " + request.form["Digits"]))

    @app.post("/dialed")
    def dialed():
        return twiml(VoiceResponse().say("Back from dispatch"))

    numbers = [NumberConfig(NUMBER, PUBLIC + "/voice"),
               NumberConfig(DISPATCH, PUBLIC + "/dispatch")]
    sim = Emulator(ACCOUNT, TOKEN, numbers, WSGITransport(app))
    call = sim.place_call(Caller(CALLER, NUMBER, script=[press("1")]))
    sim.run_until_idle()
    inbound = next(c for c in sim.calls.values() if c.to == DISPATCH and c.direction == "inbound")
    assert inbound.heard() == ["Dispatch. Press one.", "Dispatch got 1"]  # our caller pressed 1
    assert inbound.from_ == CALLER
    params = app.hits("/dialed")[0].params
    leg = sim.calls[params["DialCallSid"]]
    assert leg.parent_sid == call.sid and leg.direction == "outbound-dial"
    assert params["DialCallStatus"] == "completed"
    assert call.heard() == ["Back from dispatch"]


def test_conference_starts_with_its_moderator_and_ends_when_they_leave(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        d = Dial(action="/left")
        first = request.form["From"] == CALLER
        d.conference("room-1", start_conference_on_enter=not first,
                     end_conference_on_exit=not first, wait_url="/hold",
                     status_callback="/conf-events",
                     status_callback_event="start end join leave")
        r.append(d)
        return twiml(r)

    @app.post("/hold")
    def hold():
        r = VoiceResponse()
        r.say("Please wait for a call-taker")
        r.pause(length=5)
        return twiml(r)

    @app.post("/left")
    def left():
        return twiml(VoiceResponse().say("Conference " + request.form["DialCallStatus"]))

    @app.post("/conf-events")
    def conf_events():
        return "", 204

    sim = make_sim(app)
    resident = sim.place_call(Caller(CALLER, NUMBER))
    taker = sim.place_call(Caller("+14155550100", NUMBER, hangup_after=60), at=20)
    sim.run_until_idle()
    holds = [e for e in resident.events("say") if e["text"] == "Please wait for a call-taker"]
    assert len(holds) == 3  # at 0, 7 and 14 s, until the call-taker joins at 20 s
    assert resident.heard()[-1] == "Conference answered"
    assert resident.events("conference_leave")[0].t == 80
    after = app.hits("/left")[0].params
    assert "DialCallSid" not in after and after["DialCallStatus"] == "answered"
    events = [h.params["StatusCallbackEvent"] for h in app.hits("/conf-events")]
    assert events == ["participant-join", "participant-join", "conference-start",
                      "participant-leave", "participant-leave", "conference-end"]
    assert [h.params["SequenceNumber"] for h in app.hits("/conf-events")] == [
        str(i) for i in range(6)]
    conf = next(iter(sim.conferences.by_sid.values()))
    assert conf.status == "completed"
    assert conf.reason_ended == "participant-with-end-conference-on-exit-left"
    assert taker.status == "completed"


def test_dial_client_and_redirecting_the_dialed_leg(app: App) -> None:
    """A REST redirect of the dialed party's leg takes it out of the bridge to its own TwiML."""
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial(action="/dialed").client("alice")
        return twiml(r)

    @app.post("/dialed")
    def dialed():
        return twiml(VoiceResponse().say("Dial " + request.form["DialCallStatus"]))

    @app.post("/briefing")
    def briefing():
        return twiml(VoiceResponse().say("You are being briefed"))

    sim = make_sim(app)
    sim.on_dial("client:alice", answers(after=2))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.advance(30)
    [leg] = [c for c in sim.calls.values() if c.to == "client:alice"]
    assert leg.bridge is not None and leg.direction == "outbound-dial"
    sim.redirect(leg, PUBLIC + "/briefing")
    sim.run_until_idle()
    assert leg.heard() == ["You are being briefed"]
    assert call.heard() == ["Dial completed"]
    assert app.hits("/dialed")[0].params["DialCallDuration"] == "28"


def test_a_list_of_parties_is_one_behaviour_per_ring(app: App) -> None:
    dial_app(app)
    sim = make_sim(app)
    sim.on_dial(DISPATCH, [busy(after=1), answers(after=2, hangup_after=5)])
    calls = [sim.place_call(Caller(f"+1410555000{i}", NUMBER), at=i * 60) for i in range(3)]
    sim.run_until_idle()
    assert [c.heard()[-1] for c in calls] == ["Dial busy", "Dial completed", "Dial completed"]
    with pytest.raises(ValueError):
        sim.on_dial(DISPATCH, [])


def test_a_held_participant_hears_the_hold_music_until_taken_off_hold(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        d = Dial()
        d.conference("room-2", start_conference_on_enter=True, end_conference_on_exit=False)
        r.append(d)
        return twiml(r)

    @app.post("/held")
    def held():
        r = VoiceResponse()
        r.say("You are on hold")
        r.pause(length=4)
        return twiml(r)

    sim = make_sim(app)
    resident = sim.place_call(Caller(CALLER, NUMBER, hangup_after=120))
    taker = sim.place_call(Caller("+14155550100", NUMBER, hangup_after=120), at=1)
    sim.advance(10)
    conf = sim.conferences.active["room-2"]
    p = conf.participants[resident.sid]
    conf.set_flags(p, hold=True, muted=None, hold_url=PUBLIC + "/held", hold_method="POST")
    sim.advance(20)  # the hold document, over and over
    conf.set_flags(p, hold=False, muted=None)
    sim.advance(20)  # back in the conference: nothing more played
    heard = [e.t for e in resident.events("say") if e["text"] == "You are on hold"]
    assert len(heard) == 4 and heard[0] == 10
    assert all(t < 30 for t in heard)
    assert [e.kind for e in resident.events("hold", "unhold")] == ["hold", "unhold"]
    assert resident.participant is p and taker.participant is not None  # still both in
    sim.run_until_idle()
    assert resident.status == taker.status == "completed"
