"""Where the emulator used to depart from Twilio's documentation, each held to the doc's words.

- `<Pause>`: "If <Pause> is the first verb in a TwiML document, Twilio will wait the specified
  number of seconds before picking up the call." (twilio.com/docs/voice/twiml/pause)
- Error 11750: "In your response to Twilio's request, the response body is larger than 64 kB."
  (twilio.com/docs/api/errors/11750)
- `<Dial answerOnBridge>`: "Preserve the ringing behavior of the inbound call until the Dialed
  call picks up" (twilio's helper libraries, voice_response `answer_on_bridge`).
- Participant `HoldMethod`: "The HTTP method we should use to call `hold_url`. Can be: `GET` or
  `POST` and the default is `GET`." (twilio participant resource, update options)
- Participant addressed by label: "The Call SID or label of the participant to update."
- What is not emulated is refused loudly: `AnnounceUrl` (a 400 the client raises) and
  `<Number url>` (the call fails with an application error), never skipped in silence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Response
from sim_helpers import ACCOUNT, CALLER, NUMBER, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.sim import Caller, Emulator, answers
from ivr.telephony.rest import client_for

DISPATCH = "+14105550911"


def _answered_at(call) -> float:  # type: ignore[no-untyped-def]
    return call.events("answered")[0].t - call.created_t


def test_a_first_pause_delays_the_answer(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.pause(length=4)
        r.say("Hello")
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert _answered_at(call) == pytest.approx(4)
    assert call.heard() == ["Hello"]
    assert call.duration is not None and call.duration < 2  # the 4 s rang, unbilled


def test_a_pause_after_a_say_is_an_answered_silence(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Hello")
        r.pause(length=4)
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert _answered_at(call) == pytest.approx(0)


def test_a_caller_who_hangs_up_during_a_first_pause_was_never_answered(app: App) -> None:
    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().pause(length=10))

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, hangup_after=3))
    sim.run_until_idle()
    assert call.status == "canceled" and not call.events("answered")


@pytest.mark.parametrize(("size", "error"), [(64 * 1024 - 200, None), (64 * 1024 + 1, 11750)])
def test_a_twiml_body_over_64_kb_is_error_11750(app: App, size: int, error: int | None) -> None:
    @app.post("/voice")
    def voice():
        head = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say><!--'
        tail = "--></Response>"
        return Response(head + "x" * (size - len(head) - len(tail)) + tail, mimetype="text/xml")

    @app.post("/fallback")
    def fallback():
        return twiml(VoiceResponse().say("Sorry"))

    sim = make_sim(app, fallback_url="https://ivr.example.org/fallback")
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    if error is None:
        assert call.heard() == ["Hello"]
    else:
        assert [e.data["code"] for e in call.events("error")] == [11750]
        assert app.hits("/fallback")[0].params["ErrorCode"] == "11750"
        assert call.heard() == ["Sorry"]


def _dial_app(app: App, **dial_kw) -> None:  # type: ignore[no-untyped-def]
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial(DISPATCH, timeout=20, **dial_kw)
        return twiml(r)


def test_answer_on_bridge_keeps_the_caller_ringing_until_the_party_answers(app: App) -> None:
    _dial_app(app, answer_on_bridge=True)
    sim = make_sim(app, status_callback="https://ivr.example.org/status",
                   status_callback_events=("ringing", "answered", "completed"))
    app.add_url_rule("/status", "status", lambda: ("", 204), methods=["POST"])
    sim.on_dial(DISPATCH, answers(after=6, hangup_after=30))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.advance(3)
    assert call.status == "ringing"  # the dial is ringing, and so is the caller
    assert app.hits("/voice")[0].params["CallStatus"] == "ringing"
    sim.run_until_idle()
    assert _answered_at(call) == pytest.approx(6)
    statuses = [r.params["CallStatus"] for r in app.hits("/status")]
    assert statuses.index("in-progress") > statuses.index("ringing")


def test_without_answer_on_bridge_the_caller_is_answered_at_once(app: App) -> None:
    _dial_app(app)
    sim = make_sim(app)
    sim.on_dial(DISPATCH, answers(after=6, hangup_after=30))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert _answered_at(call) == pytest.approx(0)


def test_a_number_url_whisper_is_refused_loudly(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        d = Dial(timeout=20)
        d.number(DISPATCH, url="/whisper")
        r.append(d)
        return twiml(r)

    sim = make_sim(app)
    sim.on_dial(DISPATCH, answers(after=2))
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert call.application_error
    [error] = call.events("error")
    assert error.data["code"] == 12200 and "not emulated" in error.data["detail"]
    assert not app.hits("/whisper")


@pytest.fixture
def room(app: App) -> Iterator[tuple[Emulator, Client]]:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial().conference("room")
        return twiml(r)

    @app.route("/hold-music", methods=["GET", "POST"])
    def hold_music():
        return twiml(VoiceResponse().say("please hold"))

    sim = make_sim(app)
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN)
    sim.stop_rest()


def _in_room(sim: Emulator, client: Client):  # type: ignore[no-untyped-def]
    caller = sim.place_call(Caller(CALLER, NUMBER, hangup_after=600))
    sim.advance(3)
    [conf] = client.conferences.list(friendly_name="room", status="in-progress")
    return caller, conf


def test_hold_method_defaults_to_get(room, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = room
    caller, conf = _in_room(sim, client)
    client.conferences(conf.sid).participants(caller.sid).update(
        hold=True, hold_url="https://ivr.example.org/hold-music")
    sim.advance(5)
    methods = {r.method for r in app.hits("/hold-music")}
    assert methods == {"GET"}
    assert "please hold" in caller.heard_text()


def test_a_participant_is_addressed_by_its_label(room, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = room
    sim.on_dial(DISPATCH, answers(after=2))
    _caller, conf = _in_room(sim, client)
    added = client.conferences(conf.sid).participants.create(
        from_=NUMBER, to=DISPATCH, label="dispatch")
    assert added.label == "dispatch"
    sim.advance(4)
    fetched = client.conferences(conf.sid).participants("dispatch").fetch()
    assert fetched.call_sid == added.call_sid and fetched.label == "dispatch"
    client.conferences(conf.sid).participants("dispatch").update(muted=True)
    assert sim.calls[added.call_sid].participant.muted
    with pytest.raises(TwilioRestException) as twice:
        client.conferences(conf.sid).participants.create(from_=NUMBER, to=DISPATCH,
                                                         label="dispatch")
    assert twice.value.status == 400


@pytest.mark.parametrize("where", ["participant", "conference"])
def test_announce_url_is_refused_not_skipped(room, where: str) -> None:  # type: ignore[no-untyped-def]
    sim, client = room
    caller, conf = _in_room(sim, client)
    url = "https://ivr.example.org/announce"
    with pytest.raises(TwilioRestException) as refused:
        if where == "participant":
            client.conferences(conf.sid).participants(caller.sid).update(announce_url=url)
        else:
            client.conferences(conf.sid).update(announce_url=url)
    assert refused.value.status == 400
    assert "AnnounceUrl" in refused.value.msg and "not emulated" in refused.value.msg
