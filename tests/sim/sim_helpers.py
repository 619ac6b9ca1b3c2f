"""Small Flask apps for the emulator's tests (never the real app), and an emulator wired to them.

Every request the app receives is recorded with whether its `X-Twilio-Signature` validates with
twilio's own `RequestValidator` against the public URL the emulator requested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Emulator, NumberConfig, WSGITransport

PUBLIC = "https://ivr.example.org"
TOKEN = "sim-test-auth-token"
ACCOUNT = "AC" + "5" * 32
NUMBER = "+14155550311"
CALLER = "+14105551234"


@dataclass
class Received:
    path: str
    method: str
    params: dict[str, str]
    signed: bool


class App(Flask):
    received: list[Received]

    def hits(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def make_app() -> App:
    app = App("simtest")
    app.received = []
    validator = RequestValidator(TOKEN)

    @app.before_request
    def record() -> None:
        signed = validator.validate(request.url, request.form,
                                    request.headers.get("X-Twilio-Signature", ""))
        app.received.append(Received(request.path, request.method,
                                     request.values.to_dict(), signed))

    return app


def twiml(doc: TwiML | str) -> Response:
    """A TwiML response; a lone verb (`VoiceResponse().say(...)` returns one) gets wrapped."""
    if isinstance(doc, TwiML) and not isinstance(doc, VoiceResponse):
        doc = VoiceResponse().append(doc)
    return Response(str(doc), mimetype="text/xml")


def make_sim(app: Any, voice: str = "/voice", **kwargs: Any) -> Emulator:
    number_kw = {k: kwargs.pop(k) for k in list(kwargs)
                 if k in ("fallback_url", "status_callback", "status_callback_events",
                          "voice_method")}
    number = NumberConfig(NUMBER, PUBLIC + voice, **number_kw)
    return Emulator(ACCOUNT, TOKEN, [number], WSGITransport(app), **kwargs)


# -- the status tests' app ------------------------------------------------------------------

ALL_EVENTS = ("initiated", "ringing", "answered", "completed")


def status_app(app: App) -> None:
    """Speaks, pauses, and takes status callbacks (204)."""
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("hello")
        r.pause(length=3)
        return twiml(r)

    @app.post("/status")
    def status():
        return "", 204
