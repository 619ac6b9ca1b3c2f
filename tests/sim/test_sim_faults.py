"""Faults on Twilio's side: status callbacks lost (never sent again, as Twilio), and the app's
host down for a window (refused; TwiML goes to a fallback URL on another host, else the caller
hears the application error; status callbacks in the window are lost). Everything a fault did
is in the emulator's fault log."""

from __future__ import annotations

import pytest
from flask import request
from sim_helpers import ALL_EVENTS, CALLER, NUMBER, PUBLIC, App, make_sim, twiml
from sim_helpers import status_app as plain_status_app
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, StatusPolicy, hangup, wait
from ivr.sim.call import Webhook
from ivr.sim.twiml import APPLICATION_ERROR_TEXT

BACKUP = "https://backup.example.org"  # a second host: what a fallback URL should be on


def status_app(app: App) -> None:
    """The status tests' app, and a fallback URL that answers."""
    plain_status_app(app)

    @app.post("/fallback")
    def fallback():
        r = VoiceResponse()
        r.say(f"Sorry, error {request.form['ErrorCode']}. Connecting you to a person.")
        return twiml(r)


def outbound(sim, n: int) -> list:  # type: ignore[no-untyped-def]
    hook = Webhook(PUBLIC + "/voice", status_callback=PUBLIC + "/status",
                   status_callback_events=ALL_EVENTS)
    return [sim.create_call(f"+1410555{i:04d}", NUMBER, hook) for i in range(n)]


def received(app: App) -> list[tuple[str, str]]:
    return [(h.params["CallSid"], h.params["CallStatus"]) for h in app.hits("/status")]


def test_every_final_callback_lost_and_the_others_delivered(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status=StatusPolicy(lose=1.0, lose_events={"completed"}))
    calls = outbound(sim, 3)
    sim.run_until_idle()
    assert all(c.status == "completed" for c in calls)
    assert {s for _, s in received(app)} == {"initiated", "ringing", "in-progress"}
    assert len(received(app)) == 9
    lost = sim.lost_status()
    assert sorted((cb.call.sid, cb.event) for cb in lost) == sorted(
        (c.sid, "completed") for c in calls)
    log = sim.fault_log("status_lost")
    assert [(f["call_sid"], f["event"], f["reason"], f["sequence"]) for f in log] == [
        (cb.call.sid, "completed", "policy", 3) for cb in lost]
    assert calls[0].events("status_lost")[0]["event"] == "completed"


def test_lost_at_random_with_the_seeded_generator_the_same_each_run(app: App) -> None:
    status_app(app)

    def run(seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        app.received.clear()
        sim = make_sim(app, seed=3, status=StatusPolicy(lose=0.4, seed=seed))
        outbound(sim, 10)
        sim.run_until_idle()
        lost = [(cb.call.sid, cb.params["CallStatus"]) for cb in sim.lost_status()]
        return received(app), lost

    got, lost = run(seed=7)
    assert 0 < len(lost) < 40 and len(got) + len(lost) == 40  # every callback once: sent or lost
    assert not set(got) & set(lost)
    assert run(seed=7) == (got, lost)  # a run repeats
    assert run(seed=8) != (got, lost)


def test_a_duplicated_callback_that_is_lost_is_lost_once(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status=StatusPolicy(lose=1.0, lose_events={"completed"}, duplicate=True))
    [call] = outbound(sim, 1)
    sim.run_until_idle()
    assert [s for _, s in received(app)] == ["initiated", "initiated", "ringing", "ringing",
                                             "in-progress", "in-progress"]
    assert len(sim.lost_status(call)) == 1 and len(sim.fault_log("status_lost")) == 1


def test_a_probability_is_a_probability() -> None:
    with pytest.raises(ValueError, match="probability"):
        StatusPolicy(lose=1.5)


def test_host_down_sends_the_call_to_a_fallback_on_another_host_and_loses_its_callbacks(
        app: App) -> None:
    status_app(app)
    sim = make_sim(app, fallback_url=BACKUP + "/fallback", status_callback=PUBLIC + "/status")
    before = sim.place_call(Caller(CALLER, NUMBER, script=[wait(2), hangup()]))
    sim.take_down(at=10, until=40)
    during = sim.place_call(Caller("+14105550002", NUMBER, script=[wait(2), hangup()]), at=20)
    after = sim.place_call(Caller("+14105550003", NUMBER, script=[wait(2), hangup()]), at=50)
    sim.run_until_idle()
    assert before.heard() == after.heard() == ["hello"]
    assert during.heard() == ["Sorry, error 11205. Connecting you to a person."]
    assert not during.application_error
    [fallback] = app.hits("/fallback")
    assert (fallback.params["ErrorUrl"], fallback.params["CallSid"]) == (
        PUBLIC + "/voice", during.sid)
    assert [f["url"] for f in sim.fault_log("refused")] == [PUBLIC + "/voice",
                                                            PUBLIC + "/status"]
    assert [sid for sid, _ in received(app)] == [before.sid, after.sid]  # Twilio does not retry
    [lost] = sim.lost_status()
    assert lost.call is during and "connection refused" in (lost.lost or "")
    assert during.events("status_lost")[0]["event"] == "completed"


def test_host_down_without_a_fallback_is_the_application_error_until_it_is_back(
        app: App) -> None:
    status_app(app)
    sim = make_sim(app)
    sim.take_down("ivr.example.org")  # until brought back
    down = sim.place_call(Caller(CALLER, NUMBER))
    sim.advance(5)
    sim.bring_up()
    back = sim.place_call(Caller("+14105550002", NUMBER))
    sim.run_until_idle()
    assert down.application_error and down.heard() == [APPLICATION_ERROR_TEXT]
    assert down.events("error")[0]["code"] == 11205
    assert back.heard() == ["hello"] and not back.application_error
    assert [h.params["CallSid"] for h in app.hits("/voice")] == [back.sid]


def test_a_fallback_on_the_same_host_is_down_with_it(app: App) -> None:
    status_app(app)
    sim = make_sim(app, fallback_url=PUBLIC + "/fallback")
    sim.take_down()
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert call.application_error and not app.received
    assert [f["url"] for f in sim.fault_log("refused")] == [PUBLIC + "/voice",
                                                            PUBLIC + "/fallback"]
