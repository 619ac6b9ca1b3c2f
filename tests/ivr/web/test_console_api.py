"""The console's JSON API on the real app: a call taken from offer to wrap-up, and its errors."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import redis
from flask import Flask
from sqlalchemy import select

from ivr.calls.models import CallEvent
from tests.e2e.conftest import Center
from tests.ivr.console_support import (
    Desk,
    add_account,
    emulated_offer,
    fresh_number,
    past_call,
    queue_call,
)

SECRET = "an api key secret of 32 characters"


@pytest.fixture
def desk(app: Flask, services) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(app.test_client(), add_account(services))


def offered(services, desk: Desk, **call) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    """Make `desk` available, queue a call, route it; the call id and the offer seen."""
    if desk.get("/me").get_json()["presence"]["state"] == "offline":
        assert desk.post("/presence/available").status_code == 200
    sid = queue_call(services, **call)
    services.router.route(services.clock().timestamp())
    offer = desk.get("/offer").get_json()["offer"]
    assert offer is not None and offer["call"] == sid
    return sid, offer


def events_of(services, sid: str) -> list[tuple[str, str, dict]]:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        rows = session.scalars(select(CallEvent).where(CallEvent.call_sid == sid)
                               .order_by(CallEvent.id))
        return [(e.kind, e.detail, e.data or {}) for e in rows]


@pytest.fixture
def center(settings):  # type: ignore[no-untyped-def]
    """The app with the emulator as Twilio (a call accepted is connected for real)."""
    made = Center(settings)
    yield made
    made.close()


def test_a_call_from_offer_to_wrap_up(center) -> None:  # type: ignore[no-untyped-def]
    svc = center.services
    desk = Desk(center.app.test_client(), add_account(svc))
    assert desk.post("/presence/available").status_code == 200
    caller = fresh_number()
    earlier = past_call(svc, caller, days_ago=3, outcome="abandoned")
    sid, offer = emulated_offer(center, desk, caller=caller)
    assert offer["caller"] == caller  # the full number: call-takers call back
    assert (offer["line"], offer["topic"]) == ("311", "general")
    assert offer["language"].startswith("en")
    assert offer["menu_path"][-3:] == ["main", "main:0", "agent_general"]
    assert 0 < offer["seconds_left"] <= 15 and offer["waited_seconds"] >= 0
    assert [c["call"] for c in offer["earlier_calls"]] == [earlier]
    assert offer["earlier_calls"][0]["outcome"] == "abandoned"

    accepted = desk.post(f"/offers/{offer['reservation']}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["presence"]["state"] == "on_call" and body["call"]["active"] is True
    center.sim.advance(5)  # the call-taker's phone answers; caller and call-taker are bridged
    assert desk.get("/call").get_json()["call"]["connected"] is True

    held = desk.post("/call/hold").get_json()["call"]
    assert held["held"] is True
    assert desk.post("/call/resume").get_json()["call"]["held"] is False

    note = desk.post("/call/notes", {"text": "  Light out at 5th and Main  "})
    assert note.status_code == 201
    assert note.get_json()["note"]["text"] == "Light out at 5th and Main"
    ended = desk.post("/call/end").get_json()
    assert ended["presence"]["state"] == "wrap_up" and ended["call"]["active"] is False
    center.sim.advance(5)
    desk.post("/call/notes", {"text": "made SR 26-001"})  # notes go on during wrap-up

    done = desk.post("/call/wrap-up", {"disposition": "service-request-created"})
    assert done.status_code == 200
    after = done.get_json()
    assert after["presence"]["state"] == "available"
    assert after["call"]["disposition"]["code"] == "service-request-created"
    assert [n["text"] for n in after["call"]["notes"]] == ["Light out at 5th and Main",
                                                           "made SR 26-001"]
    mine = [(k, d) for k, d, data in events_of(svc, sid) if data.get("by") == desk.login]
    assert mine == [("note", "Light out at 5th and Main"), ("note", "made SR 26-001"),
                    ("disposition", "service-request-created")]
    kinds = [k for k, _d, _data in events_of(svc, sid)]
    assert {"offered", "accepted", "hold", "resume"} <= set(kinds)

    history = desk.get(f"/calls/{sid}/history").get_json()
    assert [c["call"] for c in history["earlier_calls"]] == [earlier]


def test_wrap_up_needs_a_known_code_and_an_ended_call(center) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(center.app.test_client(), add_account(center.services))
    desk.post("/presence/available")
    _sid, offer = emulated_offer(center, desk)
    desk.post(f"/offers/{offer['reservation']}/accept")
    center.sim.advance(5)
    early = desk.post("/call/wrap-up", {"disposition": "resolved"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "call_in_progress"
    desk.post("/call/end")
    unknown = desk.post("/call/wrap-up", {"disposition": "vibes"})
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["code"] == "unknown_disposition"
    assert "resolved" in unknown.get_json()["error"]["message"]
    assert desk.post("/call/wrap-up", ["resolved"]).status_code == 400
    assert desk.post("/call/wrap-up", {"disposition": "resolved"}).status_code == 200


def test_a_break_chosen_in_wrap_up_starts_when_wrap_up_is_done(center) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(center.app.test_client(), add_account(center.services))
    desk.post("/presence/available")
    _sid, offer = emulated_offer(center, desk)
    desk.post(f"/offers/{offer['reservation']}/accept")
    center.sim.advance(5)
    desk.post("/call/end")
    pending = desk.post("/presence/break", {"reason": "Meal"}).get_json()["presence"]
    assert pending["state"] == "wrap_up" and pending["pending_break"] == "Meal"
    done = desk.post("/call/wrap-up", {"disposition": "resolved"}).get_json()
    assert done["presence"]["state"] == "on_break" and done["presence"]["reason"] == "Meal"


def test_hold_before_the_caller_is_connected_is_refused(center) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(center.app.test_client(), add_account(center.services))
    desk.post("/presence/available")
    _sid, offer = emulated_offer(center, desk)
    desk.post(f"/offers/{offer['reservation']}/accept")  # the phone has not answered yet
    refused = desk.post("/call/hold")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "not_connected"


def test_earlier_calls_are_the_last_ten_newest_first(services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    caller = fresh_number()
    made = [past_call(services, caller, days_ago=d) for d in range(1, 13)]
    _sid, offer = offered(services, desk, caller=caller)
    assert [c["call"] for c in offer["earlier_calls"]] == made[:10]


def test_nobody_accepts_or_rejects_another_call_takers_offer(  # type: ignore[no-untyped-def]
        app: Flask, services, desk: Desk) -> None:
    _sid, offer = offered(services, desk)
    other = Desk(app.test_client(), add_account(services))
    for action in ("accept", "reject"):
        refused = other.post(f"/offers/{offer['reservation']}/{action}")
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "not_your_offer"
    assert other.get(f"/calls/{offer['call']}/history").status_code == 403
    assert services.agents.get(desk.login).state == "reserved"  # untouched
    assert desk.post(f"/offers/{offer['reservation']}/reject").status_code == 200


def test_a_supervisor_may_read_any_callers_history(app: Flask, services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    sid, _offer = offered(services, desk)
    supervisor = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    assert supervisor.get(f"/calls/{sid}/history").status_code == 200
    missing = supervisor.get("/calls/CAnothing/history")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "unknown_call"


def test_rejecting_puts_the_call_back_for_the_next_call_taker(app: Flask, services, clock,  # type: ignore[no-untyped-def]
                                                              desk: Desk) -> None:
    sid, offer = offered(services, desk)
    other = Desk(app.test_client(), add_account(services))
    clock.at += timedelta(seconds=2)
    other.post("/presence/available")
    clock.at += timedelta(seconds=2)  # the rejecting call-taker is now the less idle one
    rejected = desk.post(f"/offers/{offer['reservation']}/reject")
    assert rejected.status_code == 200
    assert rejected.get_json()["presence"]["state"] == "available"
    again = other.get("/offer").get_json()["offer"]
    assert again is not None and again["call"] == sid  # routed at once, not at the next tick
    closed = desk.post(f"/offers/{offer['reservation']}/accept")
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "offer_closed"


def test_a_rejected_call_is_not_offered_again_to_the_one_who_rejected_it_at_once(  # type: ignore[no-untyped-def]
        services, clock, desk: Desk) -> None:
    delay = services.agents.rules.reject_delay
    assert delay >= 5  # the default cooldown (ivr/defaults/config.yaml agents.reject_delay)
    sid, offer = offered(services, desk)
    rejected = desk.post(f"/offers/{offer['reservation']}/reject").get_json()
    assert rejected["presence"]["ready_at"] == clock().timestamp() + delay
    services.router.tick(clock().timestamp())
    assert desk.get("/offer").get_json()["offer"] is None  # alone on the floor: the call waits
    clock.at += timedelta(seconds=delay - 1)
    services.router.tick(clock().timestamp())
    assert desk.get("/offer").get_json()["offer"] is None
    clock.at += timedelta(seconds=1)
    services.router.tick(clock().timestamp())
    again = desk.get("/offer").get_json()["offer"]
    assert again is not None and again["call"] == sid  # after the cooldown, offered again


def test_state_errors_are_precise(services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    no_call = desk.post("/call/end")
    assert no_call.status_code == 409
    assert no_call.get_json()["error"] == {"code": "no_active_call", "state": "offline",
                                           "message": f"{desk.login} is not on a call"}
    assert desk.post("/call/notes", {"text": "x"}).get_json()["error"]["code"] == "no_call"
    refused = desk.post("/presence/end-break")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "state_refused"
    assert "no break to end" in refused.get_json()["error"]["message"]
    desk.post("/presence/available")
    twice = desk.post("/presence/available")
    assert twice.status_code == 409 and "already logged in" in twice.get_json()["error"]["message"]
    assert desk.post("/presence/break", {}).get_json()["error"]["code"] == "bad_request"
    assert desk.post("/presence/break", {"reason": "x" * 81}).status_code == 400
    on_break = desk.post("/presence/break", {"reason": "Meal"}).get_json()
    assert on_break["presence"] | {} and on_break["presence"]["state"] == "on_break"
    assert desk.post("/presence/available").get_json()["presence"]["state"] == "available"
    assert desk.post("/presence/logout").get_json()["presence"]["state"] == "offline"


def test_hold_and_resume_need_a_call(services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    for action in ("hold", "resume"):
        response = desk.post(f"/call/{action}")
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "no_active_call"


def test_me_lists_the_choices_of_the_console(services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    me = desk.get("/me").get_json()
    assert me["takes_calls"] is True and me["sees_floor"] is False
    assert me["presence"]["state"] == "offline" and me["offer"] is None and me["call"] is None
    assert me["dispositions"][0] == {"code": "resolved", "label": "Resolved"}
    assert {"wrong-number", "transferred", "information-given"} <= {
        d["code"] for d in me["dispositions"]}
    assert "Meal" in me["break_reasons"]
    assert me["offer_timeout"] == services.agents.rules.offer_timeout


def test_the_voice_token_needs_an_api_key(app: Flask, services, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    app.config.update(TWILIO_API_KEY="", TWILIO_API_SECRET="")
    missing = desk.get("/voice/token")
    assert missing.status_code == 503
    error = missing.get_json()["error"]
    assert error["code"] == "browser_phone_unavailable" and "IVR_TWILIO_API_KEY" in error["message"]

    app.config.update(TWILIO_API_KEY="SK" + "1" * 32, TWILIO_API_SECRET=SECRET)
    made = desk.get("/voice/token").get_json()
    assert made["identity"] == desk.login
    claims = jwt.decode(made["token"], SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == desk.login
    assert claims["grants"]["voice"]["incoming"] == {"allow": True}
    assert claims["iss"] == "SK" + "1" * 32 and claims["sub"] == services.settings.account_sid

    phone = Desk(app.test_client(), add_account(services, contact="+14435550123"))
    desk_phone = phone.get("/voice/token")
    assert desk_phone.status_code == 409
    assert desk_phone.get_json()["error"]["code"] == "desk_phone"


def test_a_console_request_while_redis_restarts_is_told_to_retry(  # type: ignore[no-untyped-def]
        app, services, monkeypatch) -> None:
    desk = Desk(app.test_client(), add_account(services))

    def refused(self, *args, **options):  # type: ignore[no-untyped-def]
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(redis.Redis, "execute_command", refused)
    response = desk.get("/me")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "2"
    monkeypatch.undo()
    assert desk.get("/me").status_code == 200  # back as soon as Redis is
