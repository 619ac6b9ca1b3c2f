"""Each verb as Twilio runs it: parameters sent, what the caller hears, and virtual time spent."""

from __future__ import annotations

import re

import pytest
from flask import Response, request
from sim_helpers import CALLER, NUMBER, PUBLIC, App, make_sim, twiml
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, hangup, press, record, say, silence, wait


def caller(*script, **kw) -> Caller:
    return Caller(CALLER, NUMBER, script=list(script), **kw)


def test_say_pause_play_take_virtual_time_and_are_heard(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("one two three four five", voice="alice", language="es-US")
        r.pause(length=3)
        r.play("/media/hello.mp3", loop=2)
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert call.heard() == ["one two three four five"]
    [said] = call.events("say")
    assert (said["voice"], said["language"]) == ("alice", "es-US")
    assert call.events("play")[0]["url"] == PUBLIC + "/media/hello.mp3"
    assert call.ended_t == pytest.approx(5 * 0.4 + 3 + 2 * 10)
    assert (call.status, call.hung_up_by, call.duration) == ("completed", "app", 25)
    first = app.received[0].params
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["ApiVersion"] == "2010-04-01" and first["Caller"] == CALLER
    assert first["Called"] == NUMBER and re.fullmatch(r"CA[0-9a-f]{32}", first["CallSid"])


def _menu(app: App, **gather_kw) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(action="/menu", **gather_kw).say("Make a choice")
        r.say("We did not hear you")
        return twiml(r)

    @app.post("/menu")
    def menu():
        return twiml(VoiceResponse().say("Got " + request.form.get("Digits", "nothing")))


def test_gather_without_input_falls_through_to_the_next_verb(app: App) -> None:
    _menu(app)
    sim = make_sim(app)
    call = sim.place_call(caller(silence()))
    sim.run_until_idle()
    assert call.heard() == ["Make a choice", "We did not hear you"]
    assert not app.hits("/menu")
    assert call.events("gather")[0]["result"] == "none"
    assert call.events("gather")[0].t == pytest.approx(3 * 0.4 + 5)  # prompt, then timeout


def test_gather_action_on_empty_result_posts_the_action(app: App) -> None:
    _menu(app, action_on_empty_result=True, timeout=3)
    sim = make_sim(app)
    call = sim.place_call(caller())  # no script: silent
    sim.run_until_idle()
    assert call.heard() == ["Make a choice", "Got nothing"]
    assert "Digits" not in app.hits("/menu")[0].params


@pytest.mark.parametrize(("keys", "kw", "digits", "finished", "seconds"), [
    ("123#", {}, "123", "#", 0),  # the finish key submits at once
    ("123", {}, "123", "", 5),  # then Twilio waits `timeout` for more
    ("123", {"num_digits": 2}, "12", "", 0),  # numDigits reached
    ("12*", {"finish_on_key": "*"}, "12", "*", 0),
])
def test_gather_keys(app: App, keys, kw, digits, finished, seconds) -> None:
    _menu(app, **kw)
    sim = make_sim(app)
    call = sim.place_call(caller(press(keys, after=2)))
    sim.run_until_idle()
    params = app.hits("/menu")[0].params
    assert (params["Digits"], params["FinishedOnKey"]) == (digits, finished)
    assert call.heard()[-1] == f"Got {digits}"
    assert call.events("gather")[0].t == pytest.approx(3 * 0.4 + 2 + seconds)


def test_gather_speech(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        g = r.gather(input="dtmf speech", language="es-US", hints="bache, ruido",
                     speech_timeout="auto")
        g.say("Diga su problema", language="es-US")
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(caller(say("bache grande", confidence=0.87)))
    sim.run_until_idle()
    params = app.hits("/voice")[1].params  # the default action is the document's own URL
    assert params["SpeechResult"] == "bache grande" and params["Confidence"] == "0.87"
    assert "Digits" not in params
    assert call.events("gather")[0]["result"] == "speech"


def test_dtmf_gather_ignores_speech_and_a_slow_caller_answers_the_next_one(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(action="/menu").say("Choose")
        r.gather(action="/menu").say("Choose again")
        return twiml(r)

    @app.post("/menu")
    def menu():
        return twiml(VoiceResponse().say("Got " + request.form["Digits"]))

    sim = make_sim(app)
    deaf = sim.place_call(caller(say("hello"), wait(20), press("7")))
    slow = sim.place_call(caller(wait(6), press("7")))
    sim.run_until_idle()
    # "hello" is lost on a DTMF gather; the press comes 20 s later: the second gather times out.
    assert [e["result"] for e in deaf.events("gather")] == ["none", "none"]
    assert deaf.events("warning")
    # 6 s of thinking miss the first gather (timeout 5 s); the keys land on the next one.
    assert [e["result"] for e in slow.events("gather")] == ["none", "digits"]
    assert slow.heard()[-1] == "Got 7"


def test_record(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Leave a message")
        r.record(action="/recorded", max_length=30, finish_on_key="#")
        r.say("No message")
        return twiml(r)

    @app.post("/recorded")
    def recorded():
        return twiml(VoiceResponse().say("Thanks " + request.form["RecordingDuration"]))

    sim = make_sim(app)
    call = sim.place_call(caller(record(12)))
    silent = sim.place_call(caller(silence()))
    sim.run_until_idle()
    params = app.hits("/recorded")[0].params
    assert params["RecordingDuration"] == "12" and params["Digits"] == "#"
    assert re.fullmatch(r"https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Recordings/RE\w{32}",
                        params["RecordingUrl"])
    assert call.heard() == ["Leave a message", "Thanks 12"]
    # An empty recording requests no action: execution goes on with the next verb.
    assert silent.heard() == ["Leave a message", "No message"]
    assert len(app.hits("/recorded")) == 1


def test_recording_a_long_message_is_cut_at_max_length(app: App) -> None:
    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().record(max_length=10, timeout=2, play_beep=False))

    sim = make_sim(app)
    sim.place_call(caller(record(60, end="silence")))
    sim.advance(30)
    assert app.hits("/voice")[1].params["RecordingDuration"] == "10"


def test_redirect_relative_url_and_method(app: App) -> None:
    @app.post("/flows/start")
    def start():
        return twiml(VoiceResponse().redirect("next?step=2", method="GET"))

    @app.get("/flows/next")
    def nxt():
        return twiml(VoiceResponse().say("step " + request.args["step"]))

    sim = make_sim(app, voice="/flows/start")
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert call.heard() == ["step 2"]
    assert app.received[1].method == "GET" and app.received[1].signed


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_as_first_verb_does_not_answer(app: App, reason: str, status: str) -> None:
    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().reject(reason=reason))

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert (call.status, call.answered_t, call.duration) == (status, None, 0)


def test_hangup_verb_and_unknown_verbs(app: App) -> None:
    @app.post("/voice")
    def voice():
        return twiml('<Response><Say>Hi</Say><Dance/><Say foo="1">there</Say><Hangup/>'
                     "<Say>never</Say></Response>")

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert call.heard() == ["Hi", "there"]
    assert {e["code"] for e in call.events("warning")} == {12200}
    assert call.hung_up_by == "app" and not call.application_error


def test_ssml_in_say_is_refused_loudly(app: App) -> None:
    """Twilio reads SSML inside <Say> with Polly and Google voices; how it sounds depends on the
    voice, which the emulator does not model: it warns rather than pretend to know."""
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Call", voice="Polly.Joanna").say_as("4105550100", interpret_as="telephone")
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    [warning] = call.events("warning")
    assert warning["code"] == 12200 and "<say-as>" in warning["message"]


def test_text_plain_is_read_aloud_then_hung_up(app: App) -> None:
    @app.post("/voice")
    def voice():
        return Response("The office is closed today.", mimetype="text/plain")

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert call.heard() == ["The office is closed today."] and call.status == "completed"


def test_callers_hang_up_by_script_and_by_patience(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(action="/voice").say("Press a key")
        r.redirect("/voice")
        return twiml(r)

    sim = make_sim(app)
    by_script = sim.place_call(caller(press("1"), wait(30), hangup()))
    impatient = sim.place_call(caller(hangup_after=17))
    sim.run_until_idle()
    assert by_script.ended_t == pytest.approx(1.2 + 1 + 5 + 30)  # prompt, think, timeout, wait
    assert impatient.ended_t == pytest.approx(17)
    assert by_script.hung_up_by == impatient.hung_up_by == "caller"


def test_a_responder_answers_each_window(app: App) -> None:
    _menu(app)
    seen = []

    def responder(window):
        seen.append(window)
        return press("42#")

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, responder=responder))
    sim.run_until_idle()
    assert call.heard()[-1] == "Got 42"
    assert seen[0].prompts == ("Make a choice",) and seen[0].input == frozenset({"dtmf"})


def test_a_twiml_loop_that_takes_no_time_is_cut(app: App) -> None:
    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().redirect("/voice"))

    sim = make_sim(app)
    call = sim.place_call(caller())
    sim.run_until_idle()
    assert call.hung_up_by == "system" and "TwiML loop" in call.events("error")[0]["detail"]
    assert len(app.received) == 100
