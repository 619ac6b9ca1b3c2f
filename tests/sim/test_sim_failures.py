"""Twilio's failure rules: fallback URL with ErrorCode/ErrorUrl, else the application error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Response, abort, request
from sim_helpers import ACCOUNT, CALLER, NUMBER, PUBLIC, TOKEN, App, make_app, make_sim, twiml
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.serving import make_server

from ivr.sim import Caller, Emulator, HTTPTransport, NumberConfig, WSGITransport, press
from ivr.sim.twiml import APPLICATION_ERROR_TEXT


def _fallback_app(app: App) -> None:
    @app.post("/fallback")
    def fallback():
        r = VoiceResponse()
        r.say(f"Sorry, error {request.form['ErrorCode']}. Connecting you to a person.")
        return twiml(r)


@pytest.mark.parametrize(("answer", "code"), [
    (lambda: abort(500), "11200"),
    (lambda: Response("<Response><Say>broken", mimetype="text/xml"), "12100"),
    (lambda: Response("<Say>no root</Say>", mimetype="application/xml"), "12100"),
    (lambda: Response("{}", mimetype="application/json"), "12300"),
])
def test_a_failed_document_goes_to_the_fallback_url(app: App, answer, code: str) -> None:
    app.post("/voice")(answer)
    _fallback_app(app)
    sim = make_sim(app, fallback_url=PUBLIC + "/fallback")
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    params = app.hits("/fallback")[0].params
    assert (params["ErrorCode"], params["ErrorUrl"]) == (code, PUBLIC + "/voice")
    assert params["CallSid"] == call.sid and app.hits("/fallback")[0].signed
    assert call.heard() == [f"Sorry, error {code}. Connecting you to a person."]
    assert not call.application_error
    assert call.events("error")[0]["code"] == int(code)


def test_without_a_fallback_the_caller_hears_the_application_error(app: App) -> None:
    @app.post("/voice")
    def voice():
        raise RuntimeError("bug in a view")

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert call.application_error
    assert call.heard() == [APPLICATION_ERROR_TEXT] and call.status == "completed"


def test_an_action_url_failure_also_uses_the_fallback_and_a_failing_fallback_is_fatal(
        app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(action="/broken", num_digits=1).say("Press one")
        return twiml(r)

    @app.post("/broken")
    def broken():
        abort(503)

    @app.post("/fallback")
    def fallback():
        abort(500)

    sim = make_sim(app, fallback_url=PUBLIC + "/fallback")
    call = sim.place_call(Caller(CALLER, NUMBER, script=[press("1")]))
    sim.run_until_idle()
    assert app.hits("/fallback")[0].params["ErrorUrl"] == PUBLIC + "/broken"
    assert app.hits("/fallback")[0].params["Digits"] == "1"
    assert call.application_error and call.heard()[-1] == APPLICATION_ERROR_TEXT


def test_a_slow_in_process_app_times_out(app: App) -> None:
    @app.post("/voice")
    def voice():
        time.sleep(0.15)
        return twiml(VoiceResponse().say("too late"))

    _fallback_app(app)
    number = NumberConfig(NUMBER, PUBLIC + "/voice", fallback_url=PUBLIC + "/fallback")
    sim = Emulator(ACCOUNT, TOKEN, [number], WSGITransport(app, timeout=0.1))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert app.hits("/fallback")[0].params["ErrorCode"] == "11205"
    assert call.heard() == ["Sorry, error 11205. Connecting you to a person."]


@pytest.fixture
def served_app() -> Iterator[tuple[App, str]]:
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_over_real_http_a_timeout_and_a_refused_connection_go_to_the_fallback(
        served_app: tuple[App, str]) -> None:
    app, base = served_app

    @app.post("/voice")
    def voice():
        time.sleep(0.5)
        return twiml(VoiceResponse().say("too late"))

    _fallback_app(app)
    numbers = [NumberConfig(NUMBER, base + "/voice", fallback_url=base + "/fallback"),
               NumberConfig("+14155550911", "http://127.0.0.1:9/voice",
                            fallback_url=base + "/fallback")]
    sim = Emulator(ACCOUNT, TOKEN, numbers, HTTPTransport(connect_timeout=1, timeout=0.2))
    slow = sim.place_call(Caller(CALLER, NUMBER))
    refused = sim.place_call(Caller(CALLER, "+14155550911"))
    sim.run_until_idle()
    assert slow.heard() == ["Sorry, error 11205. Connecting you to a person."]
    assert refused.heard() == ["Sorry, error 11205. Connecting you to a person."]
    assert all(hit.signed for hit in app.hits("/fallback"))
