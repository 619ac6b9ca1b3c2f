"""Conference recordings (TWILIO.md "Recording"): `<Conference record="record-from-start">`
records from the conference's start to its end; the recording status callback is signed and
carries Twilio's parameters; the Recording resource can be fetched, its media downloaded with
the account's credentials (mono by default, two channels with RequestedChannels=2) and
DELETEd. What the emulator does not model is refused, not ignored."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import pytest
import requests
from sim_helpers import ACCOUNT, CALLER, NUMBER, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator
from ivr.telephony.rest import client_for

AGENT = "client:alice"


@pytest.fixture
def served(app: App) -> Iterator[tuple[Emulator, Client, str]]:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial().conference(
            "room", start_conference_on_enter=False, end_conference_on_exit=True,
            record="record-from-start", recording_status_callback="/recorded",
            recording_status_callback_event="in-progress completed")
        return twiml(r)

    @app.post("/agent")
    def agent():
        r = VoiceResponse()
        r.dial().conference("room", start_conference_on_enter=True)
        return twiml(r)

    @app.post("/recorded")
    def recorded():
        return "", 204

    sim = make_sim(app)
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN), base
    sim.stop_rest()


def _talk(sim: Emulator, client: Client, seconds: float = 60):  # type: ignore[no-untyped-def]
    caller = sim.place_call(Caller(CALLER, NUMBER, hangup_after=10 + seconds))
    sim.advance(10)  # the caller waits alone: no recording before the conference starts
    assert not sim.recordings.by_sid
    client.calls.create(to=AGENT, from_=NUMBER, url="https://ivr.example.org/agent")
    sim.run_until_idle(max_seconds=3600)
    return caller


def test_a_conference_is_recorded_from_its_start_to_its_end(served, app: App) -> None:
    sim, client, _base = served
    _talk(sim, client, 60)
    [rec] = sim.recordings.by_sid.values()
    hits = app.hits("/recorded")
    assert [h.params["RecordingStatus"] for h in hits] == ["in-progress", "completed"]
    assert all(h.signed for h in hits)
    done = hits[-1].params
    assert done["RecordingSid"] == rec.sid and done["RecordingSource"] == "Conference"
    assert done["ConferenceSid"] == rec.conference_sid and done["RecordingChannels"] == "2"
    assert done["RecordingUrl"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rec.sid}")
    assert 45 <= int(done["RecordingDuration"]) <= 62  # from the call-taker's join to the end
    fetched = client.recordings(rec.sid).fetch()
    assert fetched.status == "completed" and fetched.conference_sid == rec.conference_sid
    assert fetched.duration == done["RecordingDuration"] and fetched.channels == 2


def test_the_media_needs_the_account_and_comes_mono_or_dual(served) -> None:
    sim, client, base = served
    _talk(sim, client, 30)
    [rec] = sim.recordings.by_sid.values()
    url = f"{base}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rec.sid}"
    assert requests.get(url, timeout=5).status_code == 401
    mono = requests.get(url, auth=(ACCOUNT, TOKEN), timeout=5)
    assert mono.status_code == 200 and mono.headers["Content-Type"] == "audio/x-wav"
    dual = requests.get(f"{url}.wav", params={"RequestedChannels": "2"},
                        auth=(ACCOUNT, TOKEN), timeout=5)
    channels = []
    for r in (mono, dual):
        with wave.open(io.BytesIO(r.content)) as w:
            channels.append(w.getnchannels())
    assert channels == [1, 2]
    refused = requests.get(f"{url}.mp3", auth=(ACCOUNT, TOKEN), timeout=5)
    assert refused.status_code == 400 and "WAV only" in refused.json()["message"]


def test_a_deleted_recording_is_gone(served) -> None:
    sim, client, base = served
    _talk(sim, client, 20)
    [rec] = sim.recordings.by_sid.values()
    assert client.recordings(rec.sid).delete() is True
    with pytest.raises(TwilioRestException) as gone:
        client.recordings(rec.sid).fetch()
    assert gone.value.status == 404
    media = requests.get(f"{base}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rec.sid}.wav",
                         auth=(ACCOUNT, TOKEN), timeout=5)
    assert media.status_code == 404


def test_unmodelled_recording_options_are_refused(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial(record="record-from-answer-dual").conference(
            "room", record="record-from-answer", trim="trim-silence")
        return twiml(r)

    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, hangup_after=20))
    sim.run_until_idle(max_seconds=600)
    warnings = [e["message"] for e in call.events("warning")]
    assert any("<Conference record='record-from-answer'> is not modelled" in w
               for w in warnings), warnings
    assert any("<Conference trim> is not modelled" in w for w in warnings)
    assert any("<Dial record> is not modelled" in w for w in warnings)
    assert not sim.recordings.by_sid


def test_recordings_are_listed_by_day_and_an_unknown_filter_is_refused(served) -> None:
    from datetime import timedelta

    sim, client, base = served
    _talk(sim, client, 20)
    [rec] = sim.recordings.by_sid.values()
    today = sim.clock.now().date()
    assert [r.sid for r in client.recordings.list(date_created=today)] == [rec.sid]
    assert client.recordings.list(date_created_before=today) == []
    listed = client.recordings.list(date_created_before=today + timedelta(days=1))
    assert [(r.sid, r.source, r.conference_sid) for r in listed] == [
        (rec.sid, "Conference", rec.conference_sid)]
    refused = requests.get(f"{base}/2010-04-01/Accounts/{ACCOUNT}/Recordings.json",
                           params={"IncludeSoftDeleted": "true"}, auth=(ACCOUNT, TOKEN),
                           timeout=5)
    assert refused.status_code == 400
