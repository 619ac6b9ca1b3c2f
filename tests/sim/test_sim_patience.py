"""Patience: callers hang up after their own time in a queue, counted from joining it, and
everyone still waiting hangs up at the end of a storm; nobody else is hung up."""

from __future__ import annotations

import pytest
from sim_helpers import CALLER, NUMBER, App, make_sim, twiml
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, press
from ivr.sim.patience import RECHECK, Patience


def menu_then_queue(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        g = r.gather(num_digits=1, action="/menu", timeout=90)
        g.say("Press 1 to wait for a call taker")
        return twiml(r)

    @app.post("/menu")
    def menu():
        return twiml(VoiceResponse().enqueue("311", wait_url="/wait"))

    @app.post("/wait")
    def wait_music():
        r = VoiceResponse()
        r.pause(length=10)
        return twiml(r)


def test_patience_counts_from_joining_the_queue(app: App) -> None:
    menu_then_queue(app)
    sim = make_sim(app)
    patience = Patience(sim)
    call = sim.place_call(Caller(CALLER, NUMBER, script=[press("1", after=20)]))
    patience.watch(call, 30, first_look=1.0)
    sim.advance(200)
    [enqueued] = call.events("enqueued")
    assert enqueued.t > 20  # the menu took its time ...
    assert call.ended_t is not None
    assert call.ended_t - enqueued.t == pytest.approx(30)  # ... and did not count
    assert call.hung_up_by == "caller" and patience.hangups == 1


def test_at_the_end_of_a_storm_everyone_still_waiting_hangs_up(app: App) -> None:
    menu_then_queue(app)
    sim = make_sim(app)
    patience = Patience(sim, until=60)
    calls = [sim.place_call(Caller(f"+1410555000{i}", NUMBER, script=[press("1", after=a)]))
             for i, a in enumerate((1, 70))]
    for call in calls:
        patience.watch(call, 1000, first_look=1.0)
    sim.advance(200)
    early, late = calls
    assert early.ended_t == pytest.approx(60)  # waiting when the storm ended
    # still in the menu then: gone at the first look after joining the queue
    assert late.ended_t is not None
    assert 0 <= late.ended_t - late.events("enqueued")[0].t <= RECHECK
    assert patience.hangups == 2


def test_a_caller_who_left_the_queue_is_not_hung_up(app: App) -> None:
    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().say("Thank you for calling").pause(length=100))

    sim = make_sim(app)
    patience = Patience(sim)
    call = sim.place_call(Caller(CALLER, NUMBER))
    patience.watch(call, 5, first_look=1.0)
    sim.advance(300)
    assert patience.hangups == 0 and call.hung_up_by != "caller"
