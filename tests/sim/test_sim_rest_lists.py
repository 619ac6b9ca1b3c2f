"""The REST lists a reconciler reads, filtered and paged as Twilio does, through twilio's own
`Client` on a real port; a filter the emulator does not model is refused (400), never ignored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests
from sim_helpers import ACCOUNT, CALLER, NUMBER, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator, SimClock, answers, hangup, wait
from ivr.telephony.rest import client_for

# One minute before midnight: the first call starts on one day and ends on the next.
START = datetime(2026, 12, 6, 23, 59, 0, tzinfo=UTC)
DAY1, DAY2 = date(2026, 12, 6), date(2026, 12, 7)


@pytest.fixture
def served(app: App) -> Iterator[tuple[Emulator, Client, str]]:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Please hold")
        r.pause(length=600)
        return twiml(r)

    sim = make_sim(app, clock=SimClock(START))
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN), base
    sim.stop_rest()


def three_calls(sim: Emulator) -> tuple[str, str, str]:
    """a: 23:59:00 to 00:00:30 (completed); b: from 00:01:00, still live; c: 00:02:00-00:02:20."""
    a = sim.place_call(Caller(CALLER, NUMBER, script=[wait(90), hangup()]))
    b = sim.place_call(Caller("+14105550002", NUMBER), at=120)
    c = sim.place_call(Caller("+14105550003", NUMBER, script=[wait(20), hangup()]), at=180)
    sim.run(until=240)
    assert (a.status, b.status, c.status) == ("completed", "in-progress", "completed")
    return a.sid, b.sid, c.sid


def sids(calls) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.sid for c in calls}


def test_calls_by_status_and_by_start_and_end_day(served) -> None:  # type: ignore[no-untyped-def]
    sim, client, _ = served
    a, b, c = three_calls(sim)
    assert sids(client.calls.list(status="in-progress")) == {b}
    assert sids(client.calls.list(status="completed")) == {a, c}
    assert sids(client.calls.list(start_time=DAY1)) == {a}
    assert sids(client.calls.list(start_time=DAY2)) == {b, c}
    assert sids(client.calls.list(start_time_after=DAY2)) == {b, c}  # on or after 00:00
    assert sids(client.calls.list(start_time_before=DAY2)) == {a}  # before 00:00
    assert sids(client.calls.list(end_time=DAY2)) == {a, c}  # b has not ended
    assert sids(client.calls.list(end_time_before=DAY2)) == set()
    assert sids(client.calls.list(end_time_after=DAY1, status="completed")) == {a, c}


def test_calls_by_instant_as_twilio_python_sends_a_datetime(served) -> None:  # type: ignore[no-untyped-def]
    sim, client, _ = served
    a, b, c = three_calls(sim)
    at_b = datetime(2026, 12, 7, 0, 1, 0, tzinfo=UTC)
    assert sids(client.calls.list(start_time_after=at_b)) == {b, c}
    assert sids(client.calls.list(start_time_before=at_b)) == {a}
    assert sids(client.calls.list(start_time_after=START, start_time_before=at_b)) == {a}
    assert sids(client.calls.list(end_time_after=datetime(2026, 12, 7, 0, 1, tzinfo=UTC))) == {c}


def test_a_filtered_list_keeps_its_filter_on_every_page(served) -> None:  # type: ignore[no-untyped-def]
    sim, client, _ = served
    a, b, c = three_calls(sim)
    page = client.calls.page(status="completed", page_size=1)
    assert "Status=completed" in page._payload["next_page_uri"]
    assert [x.sid for x in client.calls.list(status="completed", page_size=1)] == [c, a]
    assert len(client.calls.list(page_size=1)) == 3


def test_what_the_emulator_does_not_model_is_refused_loudly(served) -> None:  # type: ignore[no-untyped-def]
    sim, client, base = served
    three_calls(sim)
    calls = f"{base}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    for query, named in [({"Direction": "inbound"}, "Direction"),
                         ({"StartTime": "12/07/2026"}, "YYYY-MM-DD"),
                         ({"StartTime": "2026-12-07T10:00:00Z"}, "names a day"),
                         ({"EndTime>": "2026-13-01"}, "EndTime>"),
                         ({"PageToken": "PA123"}, "PageToken")]:
        resp = requests.get(calls, params=query, auth=(ACCOUNT, TOKEN), timeout=10)
        assert resp.status_code == 400, query
        assert resp.json()["code"] == 20001 and named in resp.json()["message"], resp.json()
    with pytest.raises(TwilioException, match="HTTP 400.*hung-up"):  # a page it cannot fetch
        client.calls.list(status="hung-up")
    conferences = f"{base}/2010-04-01/Accounts/{ACCOUNT}/Conferences.json"
    resp = requests.get(conferences, params={"Region": "us1"}, auth=(ACCOUNT, TOKEN), timeout=10)
    assert resp.status_code == 400 and "Region" in resp.json()["message"]


def test_conferences_by_status_name_and_day_and_participants_by_hold(
        served, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client, _ = served
    rooms = ["room-2", "room-1"]

    @app.post("/room")
    def room():
        r = VoiceResponse()
        r.dial().conference(rooms.pop(), end_conference_on_exit=True)
        return twiml(r)

    sim.numbers[NUMBER].voice_url = sim.numbers[NUMBER].voice_url.replace("/voice", "/room")
    sim.on_dial("+14105550911", answers(after=1))
    first = sim.place_call(Caller(CALLER, NUMBER, script=[wait(30), hangup()]))
    second = sim.place_call(Caller("+14105550002", NUMBER), at=120)
    sim.run(until=150)
    assert first.status == "completed" and second.status == "in-progress"
    assert [c.friendly_name for c in client.conferences.list(status="completed")] == ["room-1"]
    [live] = client.conferences.list(status="in-progress")
    assert live.friendly_name == "room-2"
    assert [c.friendly_name for c in client.conferences.list(friendly_name="room-2")] == ["room-2"]
    assert [c.friendly_name for c in client.conferences.list(date_created=DAY1)] == ["room-1"]
    assert [c.friendly_name for c in client.conferences.list(date_created_after=DAY2)] == ["room-2"]
    added = client.conferences(live.sid).participants.create(from_=NUMBER, to="+14105550911")
    sim.advance(5)
    client.conferences(live.sid).participants(second.sid).update(hold=True)
    held = client.conferences(live.sid).participants.list(hold=True)
    assert [p.call_sid for p in held] == [second.sid]
    assert [p.call_sid for p in client.conferences(live.sid).participants.list(hold=False)] == [
        added.call_sid]
    with pytest.raises(TwilioException, match="HTTP 400.*Coaching"):
        client.conferences(live.sid).participants.list(coaching=True)
