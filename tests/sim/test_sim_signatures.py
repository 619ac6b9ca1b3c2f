"""Every request the emulator sends is signed exactly as twilio-python validates it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import PUBLIC, TOKEN, App, make_sim, twiml
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.datastructures import MultiDict

from ivr.sim import Caller, press, sign
from ivr.sim.transport import with_query


def test_twilio_python_test_vector() -> None:
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_every_webhook_validates_against_the_public_url(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(num_digits=1, action="/menu?lang=en").say("Press a key")
        return twiml(r)

    @app.post("/menu")
    def menu():
        return twiml(VoiceResponse().say("Bye"))

    sim = make_sim(app)
    sim.place_call(Caller("+14105551234", "+14155550311", script=[press("1")]))
    sim.run_until_idle()
    assert [r.path for r in app.received] == ["/voice", "/menu"]
    assert all(r.signed for r in app.received)
    assert app.received[1].params["Digits"] == "1"


def test_get_webhooks_carry_their_parameters_in_the_signed_url(app: App) -> None:
    @app.get("/voice")
    def voice():
        return twiml(VoiceResponse().say("Hello"))

    sim = make_sim(app, voice_method="GET")
    sim.place_call(Caller("+14105551234", "+14155550311"))
    sim.run_until_idle()
    [hit] = app.received
    assert hit.method == "GET" and hit.signed
    assert hit.params["From"] == "+14105551234" and hit.params["CallStatus"] == "ringing"


def test_repeated_parameters_are_signed_sorted_and_deduplicated() -> None:
    params = {"A": ["2", "1", "2"], "B": "x"}
    signature = sign(TOKEN, PUBLIC + "/x", params)
    multi = MultiDict([("A", "2"), ("A", "1"), ("A", "2"), ("B", "x")])
    assert RequestValidator(TOKEN).validate(PUBLIC + "/x", multi, signature)


names = st.text(st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=12)
values = st.text(max_size=30)


@settings(max_examples=40, deadline=None)
@given(params=st.dictionaries(names, values, max_size=8),
       query=st.dictionaries(names, values, max_size=3))
def test_signatures_validate_for_any_parameters(params: dict, query: dict) -> None:
    url = with_query(PUBLIC + "/voice/incoming", query)
    assert RequestValidator(TOKEN).validate(url, params, sign(TOKEN, url, params))
