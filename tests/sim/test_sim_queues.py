"""`<Enqueue>` and `<Dial><Queue>`: the waitUrl loop, every way out, and REST dequeues."""

from __future__ import annotations

import base64

from flask import request
from sim_helpers import ACCOUNT, CALLER, NUMBER, PUBLIC, TOKEN, App, make_sim, twiml
from twilio.twiml.voice_response import Dial, VoiceResponse
from werkzeug.test import Client

from ivr.sim import Caller, Emulator, NumberConfig, WSGITransport, press

AGENT_LINE = "+14155550999"


def queue_app(app: App, action: bool = True, leave_after: int | None = None) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.say("Please hold")
        r.enqueue("311", wait_url="/wait", action="/after" if action else None)
        r.say("after the queue")
        return twiml(r)

    @app.post("/wait")
    def wait_music():
        r = VoiceResponse()
        if leave_after is not None and int(request.form["QueueTime"]) >= leave_after:
            r.leave()
        r.say(f"You are number {request.form['QueuePosition']}")
        r.pause(length=10)
        return twiml(r)

    @app.post("/after")
    def after():
        return twiml(VoiceResponse().say("Result " + request.form["QueueResult"]))


def test_wait_url_is_re_requested_with_the_queue_parameters(app: App) -> None:
    queue_app(app)
    sim = make_sim(app)
    first = sim.place_call(Caller(CALLER, NUMBER))
    second = sim.place_call(Caller("+14105550002", NUMBER), at=5)
    sim.advance(40)
    waits = [h.params for h in app.hits("/wait")]
    mine = [p for p in waits if p["CallSid"] == first.sid]
    assert [p["QueuePosition"] for p in mine] == ["1", "1", "1", "1"]
    # Enqueued at 0.8 s ("Please hold"), then a request every 1.6 + 10 s.
    assert [p["QueueTime"] for p in mine] == ["0", "11", "23", "34"]
    assert {p["CurrentQueueSize"] for p in mine[1:]} == {"2"}
    assert mine[2]["AvgQueueTime"] == str(int((23.2 + 18.2) / 2))  # both members, at 24.0 s
    assert {p["MaxQueueSize"] for p in mine} == {"1000"}
    assert {p["QueuePosition"] for p in waits if p["CallSid"] == second.sid} == {"2"}
    assert mine[0]["QueueSid"].startswith("QU") and len(mine[0]["QueueSid"]) == 34

    sim.hangup(first)  # the caller gives up
    sim.advance(15)
    after = app.hits("/after")[0].params
    assert (after["QueueResult"], after["CallSid"], after["CallStatus"]) == (
        "hangup", first.sid, "completed")
    assert after["QueueTime"] == "39"  # hung up at 40 s
    assert first.heard()[-1] == "You are number 1"  # the action's answer is not played
    assert [p["QueuePosition"] for p in waits if p["CallSid"] == second.sid][-1] == "2"
    assert app.hits("/wait")[-1].params["QueuePosition"] == "1"  # the second caller moved up


def test_leave_requests_the_action_at_once(app: App) -> None:
    queue_app(app, leave_after=20)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    params = app.hits("/after")[0].params
    assert (params["QueueResult"], params["QueueTime"]) == ("leave", "23")
    assert call.heard()[-1] == "Result leave"
    assert call.events("left")


def test_without_action_execution_resumes_after_the_enqueue(app: App) -> None:
    queue_app(app, action=False, leave_after=1)
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    assert call.heard()[-1] == "after the queue"


def test_a_gather_in_the_wait_music_leads_to_another_wait_document(app: App) -> None:
    queue_app(app)

    @app.post("/wait-menu")
    def wait_menu():
        r = VoiceResponse()
        r.gather(num_digits=1, action="/wait-choice").say("Press one to leave a message")
        return twiml(r)

    @app.post("/wait-choice")
    def wait_choice():
        r = VoiceResponse()
        if request.form["Digits"] == "1":
            r.leave()
        return twiml(r)

    app.view_functions["wait_music"] = wait_menu
    sim = make_sim(app)
    call = sim.place_call(Caller(CALLER, NUMBER, script=[press("1")]))
    sim.run_until_idle()
    assert app.hits("/after")[0].params["QueueResult"] == "leave"
    assert call.heard()[-1] == "Result leave"


def test_a_full_queue_is_refused(app: App) -> None:
    def small_queue():
        r = VoiceResponse()
        r.enqueue("small", max_queue_size=1, wait_url="/wait", action="/after")
        return twiml(r)

    queue_app(app)
    app.view_functions["voice"] = small_queue
    sim = make_sim(app)
    sim.place_call(Caller(CALLER, NUMBER))
    refused = sim.place_call(Caller("+14105550002", NUMBER), at=1)
    sim.advance(5)
    params = app.hits("/after")[0].params
    assert params["QueueResult"] == "queue-full" and "QueueSid" not in params
    assert params["CallSid"] == refused.sid
    assert 14207 in [e["code"] for e in refused.events("warning")]


def rest(sim: Emulator, method: str, path: str, data: dict | None = None):
    auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    resp = Client(sim.rest_app).open(f"/2010-04-01/Accounts/{ACCOUNT}/{path}", method=method,
                                     data=data, headers={"Authorization": f"Basic {auth}"})
    return resp.status_code, resp.get_json(silent=True)


def test_rest_dequeues_a_chosen_member(app: App) -> None:
    queue_app(app)

    @app.post("/agent-bridge")
    def agent_bridge():
        return twiml(VoiceResponse().say("Connecting you to a call-taker"))

    sim = make_sim(app)
    calls = [sim.place_call(Caller(f"+1410555000{i}", NUMBER), at=i) for i in range(3)]
    sim.advance(10)
    status, members = rest(sim, "GET", f"Queues/{calls[0].queue_member.queue.sid}/Members.json")
    assert status == 200
    assert [(m["call_sid"], m["position"]) for m in members["queue_members"]] == [
        (c.sid, i + 1) for i, c in enumerate(calls)]
    qsid = members["queue_members"][0]["queue_sid"]
    # The app's priority order is not Twilio's FIFO: it takes the third caller first.
    status, member = rest(sim, "POST", f"Queues/{qsid}/Members/{calls[2].sid}.json",
                          {"Url": PUBLIC + "/agent-bridge"})
    assert status == 200 and member["call_sid"] == calls[2].sid
    status, _ = rest(sim, "GET", f"Queues/{qsid}/Members/{calls[2].sid}.json")
    assert status == 404
    sim.advance(5)
    assert calls[2].heard()[-1] == "Connecting you to a call-taker"
    redirected = app.hits("/after")[0].params
    assert (redirected["QueueResult"], redirected["CallSid"]) == ("redirected", calls[2].sid)
    status, front = rest(sim, "GET", f"Queues/{qsid}/Members/Front.json")
    assert front["call_sid"] == calls[0].sid and front["position"] == 1


def test_dial_queue_bridges_the_first_caller_and_reports_both_sides(app: App) -> None:
    queue_app(app)

    @app.post("/agent")
    def agent():
        r = VoiceResponse()
        d = Dial(action="/agent-done")
        d.queue("311", url="/connecting")
        r.append(d)
        return twiml(r)

    @app.post("/connecting")
    def connecting():
        return twiml(VoiceResponse().say("Connecting you now"))

    @app.post("/agent-done")
    def agent_done():
        return twiml(VoiceResponse().say("Call ended " + request.form["DialCallStatus"]))

    numbers = [NumberConfig(NUMBER, PUBLIC + "/voice"), NumberConfig(AGENT_LINE, PUBLIC + "/agent")]
    sim = Emulator(ACCOUNT, TOKEN, numbers, WSGITransport(app))
    caller = sim.place_call(Caller(CALLER, NUMBER))
    taker = sim.place_call(Caller("+14155550100", AGENT_LINE, hangup_after=100), at=20)
    sim.advance(130)
    heard = app.hits("/connecting")[0].params
    assert heard["CallSid"] == caller.sid and heard["DequeingCallSid"] == taker.sid
    assert heard["QueueTime"] == "19"  # enqueued at 0.8 s, taken at 20 s
    assert caller.heard()[-2:] == ["Connecting you now", "Result bridged"]
    after = app.hits("/after")[0].params
    assert (after["QueueResult"], after["QueueTime"]) == ("bridged", "19")
    done = app.hits("/agent-done")[0].params
    assert (done["DialCallStatus"], done["DialCallSid"], done["DialBridged"]) == (
        "completed", caller.sid, "true")
    assert done["DialCallDuration"] == "99"  # bridged at 21.2 s, the agent hangs up at 120 s
    assert caller.events("bridged")[0]["with_"] == taker.sid
    assert taker.status == "completed" and not caller.application_error


def test_dial_queue_waits_for_a_caller_then_gives_up(app: App) -> None:
    queue_app(app)

    @app.post("/agent")
    def agent():
        r = VoiceResponse()
        r.dial(timeout=15, action="/agent-done").queue("311")
        return twiml(r)

    @app.post("/agent-done")
    def agent_done():
        return twiml(VoiceResponse().say(request.form["DialCallStatus"]))

    numbers = [NumberConfig(NUMBER, PUBLIC + "/voice"), NumberConfig(AGENT_LINE, PUBLIC + "/agent")]
    sim = Emulator(ACCOUNT, TOKEN, numbers, WSGITransport(app))
    sim.place_call(Caller(CALLER, NUMBER, hangup_after=1))  # the queue exists, and is empty
    first = sim.place_call(Caller("+14155550100", AGENT_LINE), at=2)
    second = sim.place_call(Caller("+14155550101", AGENT_LINE), at=3)
    sim.place_call(Caller("+14105559999", NUMBER, hangup_after=30), at=10)
    sim.run_until_idle()
    # The first agent waiting gets the caller who arrives; the second one's Dial times out.
    assert first.heard() == ["completed"] and second.heard() == ["no-answer"]
    assert second.events("dial_result")[0].t == 3 + 15
    assert first.events("dial_result")[0].t == 40
