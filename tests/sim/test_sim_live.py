"""A live caller (`Caller(live=True)`): a person at a keyboard while the emulator runs on the
wall clock. Each input window waits its own timeout for `send_input`; input given while no window
is open is kept for the next one; a window nobody answers times out as Twilio's does."""

from __future__ import annotations

import pytest
from flask import request
from sim_helpers import CALLER, NUMBER, App, make_sim, twiml
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.sim import Caller
from ivr.sim.callers import hangup, press, say, wait


def menu_app(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        g = Gather(action="/chosen", input="dtmf speech", num_digits=1, timeout=5)
        g.say("Press 1 or say what you need")
        r.append(g)
        r.say("Nothing chosen")
        return twiml(r)

    @app.post("/chosen")
    def chosen():
        got = request.form.get("Digits") or request.form.get("SpeechResult")
        return twiml(VoiceResponse().say(f"You chose {got}"))


def test_keys_sent_while_the_menu_listens_are_heard(app: App) -> None:
    menu_app(app)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, live=True))
    sim.advance(4)  # the prompt takes 2.8 s (7 words): the window is open now
    assert call.person is not None and call.person.window is not None
    assert sim.send_input(call, press("1", after=0)) == "heard"
    sim.run_until_idle()
    assert call.heard()[-1] == "You chose 1"
    assert call.events("gather")[0].t == pytest.approx(4)  # at the moment it was sent


def test_input_before_the_window_opens_is_kept_for_it(app: App) -> None:
    menu_app(app)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, live=True))
    assert sim.send_input(call, say("pothole", after=0)) == "kept"  # not even rung yet
    sim.run_until_idle()
    assert call.heard()[-1] == "You chose pothole"


def test_a_window_nobody_answers_times_out(app: App) -> None:
    menu_app(app)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, live=True))
    sim.run_until_idle()
    assert call.heard()[-1] == "Nothing chosen"
    assert call.events("gather")[0].t == pytest.approx(2.8 + 5)  # the prompt, then timeout


def test_a_live_caller_hangs_up_and_then_cannot_press(app: App) -> None:
    menu_app(app)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, live=True))
    sim.advance(3)
    assert sim.send_input(call, hangup()) == "hung up"
    sim.run_until_idle()
    assert call.status == "completed"
    with pytest.raises(ValueError, match="is over"):
        sim.send_input(call, press("1"))
    scripted = sim.place_call(Caller(CALLER, NUMBER, script=[press("1")]))
    with pytest.raises(ValueError, match="no live caller"):
        sim.send_input(scripted, press("1"))
    with pytest.raises(ValueError, match="waits by not answering"):
        sim.send_input(sim.place_call(Caller(CALLER, NUMBER, live=True)), wait(3))
