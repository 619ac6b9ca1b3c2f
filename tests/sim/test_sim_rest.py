"""The REST API on a real port, driven by twilio's own `Client` (through `BaseUrlHttpClient`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import request
from sim_helpers import ACCOUNT, CALLER, NUMBER, PUBLIC, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator, answers, press
from ivr.telephony.rest import BaseUrlHttpClient, client_for


@pytest.fixture
def served(app: App) -> Iterator[tuple[Emulator, Client]]:
    sim = make_sim(app)
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN)
    sim.stop_rest()


def queue_and_agent_app(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.enqueue("311", wait_url="/wait", action="/after")
        return twiml(r)

    @app.post("/wait")
    def wait_music():
        r = VoiceResponse()
        r.say("Please hold")
        r.pause(length=20)
        return twiml(r)

    @app.post("/after")
    def after():
        return twiml(VoiceResponse().say("Queue result " + request.form["QueueResult"]))

    @app.post("/agent")
    def agent():
        r = VoiceResponse()
        r.gather(num_digits=1, action="/agent-answer").say("New 311 call. Press one to accept.")
        return twiml(r)

    @app.post("/moved")
    def moved():
        return twiml(VoiceResponse().say("You were moved"))


def test_authentication_and_twilio_errors(served: tuple[Emulator, Client]) -> None:
    sim, client = served
    base = client.http_client.base
    wrong = Client(ACCOUNT, "not-the-token", http_client=BaseUrlHttpClient(base))
    with pytest.raises(TwilioRestException) as denied:
        wrong.queues.create(friendly_name="x")
    assert (denied.value.status, denied.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as missing:
        client.calls("CA" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as bad:
        client.calls.create(to="+14105550100", from_=NUMBER)
    assert (bad.value.status, bad.value.code) == (400, 21205)


def test_an_outbound_call_to_an_agent(app: App, served: tuple[Emulator, Client]) -> None:
    queue_and_agent_app(app)

    @app.post("/agent-answer")
    def agent_answer():
        return twiml(VoiceResponse().say("Accepted " + request.form["Digits"]))

    sim, client = served
    sim.on_outbound("client:alice", answers(after=3, script=[press("1")], hangup_after=60))
    created = client.calls.create(to="client:alice", from_=NUMBER, url=PUBLIC + "/agent",
                                  status_callback=PUBLIC + "/agent-status",
                                  status_callback_event=["initiated", "answered", "completed"])
    assert created.sid.startswith("CA") and created.status == "queued"
    assert created.direction == "outbound-api" and created.to == "client:alice"
    sim.advance(10)
    agent = sim.calls[created.sid]
    assert agent.heard() == ["New 311 call. Press one to accept.", "Accepted 1"]
    first = app.hits("/agent")[0].params
    assert (first["Direction"], first["CallStatus"]) == ("outbound-api", "in-progress")
    assert [c.sid for c in client.calls.list(to="client:alice")] == [created.sid]
    fetched = client.calls(created.sid).fetch()
    assert fetched.status == "completed" and fetched.duration == "5"  # 2.8 + 1 + 0.8 s
    events = [h.params["CallStatus"] for h in app.hits("/agent-status")]
    assert events == ["initiated", "in-progress", "completed"]


def test_inline_twiml_and_canceling_a_ringing_call(served: tuple[Emulator, Client]) -> None:
    sim, client = served
    sim.on_outbound("+14105550100", answers(after=1))
    sim.on_outbound("+14105550200", answers(after=30))
    spoken = client.calls.create(to="+14105550100", from_=NUMBER,
                                 twiml="<Response><Say>Your request was logged</Say></Response>")
    ringing = client.calls.create(to="+14105550200", from_=NUMBER, url=PUBLIC + "/never")
    sim.advance(5)
    client.calls(ringing.sid).update(status="canceled")
    sim.advance(5)
    assert sim.calls[spoken.sid].heard() == ["Your request was logged"]
    assert client.calls(ringing.sid).fetch().status == "canceled"


def test_redirect_a_live_call_and_hang_up_another(app: App, served) -> None:
    queue_and_agent_app(app)
    sim, client = served
    moved = sim.place_call(Caller(CALLER, NUMBER))
    ended = sim.place_call(Caller("+14105550002", NUMBER))
    sim.advance(30)
    client.calls(moved.sid).update(url=PUBLIC + "/moved", method="POST")
    client.calls(ended.sid).update(status="completed")
    sim.advance(5)
    assert moved.heard()[-1] == "You were moved"
    results = {h.params["CallSid"]: h.params["QueueResult"] for h in app.hits("/after")}
    assert results == {moved.sid: "redirected", ended.sid: "hangup"}
    assert ended.status == "completed" and ended.hung_up_by == "api"
    with pytest.raises(TwilioRestException) as not_live:
        client.calls(ended.sid).update(url=PUBLIC + "/moved")
    assert not_live.value.code == 21220


def test_the_app_dequeues_a_chosen_caller_from_inside_a_webhook(app: App, served) -> None:
    """The app's own pattern: while the emulator waits on a webhook, the app calls REST."""
    queue_and_agent_app(app)
    sim, client = served

    @app.post("/agent-answer")
    def agent_answer():
        queue = client.queues.list()[0]
        members = client.queues(queue.sid).members.list()
        chosen = members[-1]  # the app's priority, not Twilio's FIFO
        client.queues(queue.sid).members(chosen.call_sid).update(url=PUBLIC + "/moved")
        return twiml(VoiceResponse().say(f"Taking {chosen.call_sid}"))

    callers = [sim.place_call(Caller(f"+1410555000{i}", NUMBER), at=i) for i in range(3)]
    sim.advance(10)
    sim.on_dial("client:bob", answers(after=1, script=[press("1")]))
    agent = client.calls.create(to="client:bob", from_=NUMBER, url=PUBLIC + "/agent")
    sim.advance(20)
    assert sim.calls[agent.sid].heard()[-1] == f"Taking {callers[2].sid}"
    assert callers[2].heard()[-1] == "You were moved"
    assert [m.call_sid for m in client.queues.list()[0].members.list()] == [
        c.sid for c in callers[:2]]


def test_queue_resources(served: tuple[Emulator, Client], app: App) -> None:
    queue_and_agent_app(app)
    sim, client = served
    created = client.queues.create(friendly_name="911", max_size=50)
    assert created.sid.startswith("QU") and created.max_size == 50
    sim.place_call(Caller(CALLER, NUMBER))
    sim.advance(15)
    queues = {q.friendly_name: q for q in client.queues.list()}
    assert set(queues) == {"911", "311"} and queues["311"].current_size == 1
    front = client.queues(queues["311"].sid).members("Front").fetch()
    assert front.position == 1 and front.wait_time == 15
    client.queues(created.sid).update(max_size=10)
    assert client.queues(created.sid).fetch().max_size == 10


def test_conference_participants(served: tuple[Emulator, Client], app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial().conference("CA-room", start_conference_on_enter=True, end_conference_on_exit=True)
        return twiml(r)

    sim, client = served
    sim.on_dial("+14105550911", answers(after=5))
    resident = sim.place_call(Caller(CALLER, NUMBER, hangup_after=300))
    sim.advance(10)
    [conf] = client.conferences.list(friendly_name="CA-room", status="in-progress")
    added = client.conferences(conf.sid).participants.create(
        from_=NUMBER, to="+14105550911", end_conference_on_exit=False)
    assert added.call_sid.startswith("CA")
    sim.advance(10)
    participants = client.conferences(conf.sid).participants.list()
    assert {p.call_sid for p in participants} == {resident.sid, added.call_sid}
    held = client.conferences(conf.sid).participants(resident.sid).update(hold=True)
    assert held.hold is True and resident.events("hold")
    client.conferences(conf.sid).participants(added.call_sid).delete()
    sim.advance(1)
    assert [p.call_sid for p in client.conferences(conf.sid).participants.list()] == [resident.sid]
    assert sim.calls[added.call_sid].status == "completed"  # no TwiML left after its <Dial>
    client.conferences(conf.sid).update(status="completed")
    sim.advance(1)
    assert client.conferences(conf.sid).fetch().status == "completed"
    assert resident.status == "completed"


def test_a_change_right_after_a_list_is_answered(app: App, served) -> None:
    """`after_rest`: the list says what was true when it was answered; the caller hangs up
    before the app reads it. It runs once, for the request named only."""
    queue_and_agent_app(app)
    sim, client = served
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.advance(10)
    queue = client.queues.list()[0]

    def hangs_up() -> None:
        sim.hangup(call, "caller")
        sim.advance(1)

    sim.after_rest("members", hangs_up)
    assert client.queues(queue.sid).fetch().current_size == 1  # another request: not yet
    assert call.status == "in-progress"
    assert [m.call_sid for m in client.queues(queue.sid).members.list()] == [call.sid]
    assert call.status == "completed"  # by the time the app reads the list
    assert [h.params["QueueResult"] for h in app.hits("/after")] == ["hangup"]
    assert client.queues(queue.sid).members.list() == []  # once
