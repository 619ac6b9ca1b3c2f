"""The console's service-request form: its JSON API on real Redis and SQL, roles and CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from ivr.calls import calllog
from ivr.platform.db import transaction
from ivr.service_requests.service import create_request
from tests.ivr.console_support import Desk, add_account, fresh_number, queue_call
from tests.ivr.web.test_console_api import offered

POTHOLE = {"service_code": "pothole", "address": "100 N Holliday St",
           "attributes": {"position": "crosswalk", "size": "large"},
           "description": "Deep, by the school", "note": "Caller walks there daily"}


@pytest.fixture
def desk(app: Flask, services) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(app.test_client(), add_account(services))


def test_services_list_their_questions(desk: Desk) -> None:
    services = {s["code"]: s for s in desk.get("/services").get_json()["services"]}
    position = services["pothole"]["questions"][0]
    assert position["code"] == "position" and position["required"] is True
    assert {"key": "crosswalk", "name": "In a crosswalk"} in position["values"]


def test_make_a_request_on_the_call_and_see_the_callers_earlier_ones(services, desk) -> None:  # type: ignore[no-untyped-def]
    caller = fresh_number()
    with transaction(services.sessions) as session:
        earlier = create_request(session, service_code="dirty-alley", address="5 Alley Way",
                                 callback_number=caller, channel="api",
                                 attributes={"debris": ["bags"]},
                                 at=services.clock() - timedelta(days=3)).number
    sid, _offer = offered(services, desk, caller=caller, topic="pothole")
    made = desk.post(f"/calls/{sid}/requests", {**POTHOLE, "callback_number": caller})
    assert made.status_code == 201, made.get_json()
    request = made.get_json()["request"]
    assert request["service_code"] == "pothole" and request["channel"] == "console"
    assert request["attributes"] == {"position": "crosswalk", "size": "large"}
    assert request["links"] == ["created"] and request["call"] == sid
    assert [h["kind"] for h in request["history"]] == ["created", "note"]
    assert request["history"][1]["by"] == desk.login
    seen = desk.get(f"/calls/{sid}/requests").get_json()
    assert [r["number"] for r in seen["requests"]] == [request["number"]]
    assert [r["number"] for r in seen["earlier_requests"]] == [earlier]
    assert seen["collected"] == {"topic": "pothole"}


def test_change_a_request_during_the_call(services, desk) -> None:  # type: ignore[no-untyped-def]
    sid, _offer = offered(services, desk)
    number = desk.post(f"/calls/{sid}/requests", POTHOLE).get_json()["request"]["number"]
    changed = desk.patch(f"/calls/{sid}/requests/{number.replace('-', '')}", {
        "address": "200 N Holliday St", "attributes": {"position": "alley"},
        "status": "closed", "status_notes": "Filled today."})
    assert changed.status_code == 200, changed.get_json()
    request = changed.get_json()["request"]
    assert request["address"] == "200 N Holliday St" and request["status"] == "closed"
    assert request["attributes"] == {"position": "alley"}
    assert request["status_notes"] == "Filled today."
    assert request["links"] == ["created", "updated"]
    assert [h["kind"] for h in request["history"]][-2:] == ["changed", "status"]
    moved = desk.patch(f"/calls/{sid}/requests/{number}", {
        "service_code": "streetlight-out",
        "attributes": {"problem": "out", "how-many": "one"}}).get_json()["request"]
    assert moved["service_code"] == "streetlight-out" and moved["agency"].startswith("Baltimore")


@pytest.mark.parametrize("body, status, code, field", [
    ({}, 400, "bad_request", None),
    ({"address": "1 Main St"}, 400, "bad_request", None),
    ({**POTHOLE, "colour": "red"}, 400, "bad_request", None),
    ({**POTHOLE, "service_code": "unicorns"}, 400, "unknown_service", "service_code"),
    ({**POTHOLE, "attributes": {}}, 400, "invalid_request", "attribute[position]"),
    ({**POTHOLE, "attributes": {"position": "sky"}}, 400, "invalid_request",
     "attribute[position]"),
    ({**POTHOLE, "address": None}, 400, "invalid_request", "location"),
    ({**POTHOLE, "lat": 91, "long": 0}, 400, "invalid_request", "lat"),
    ({**POTHOLE, "callback_number": "call me"}, 400, "invalid_request", "callback_number"),
    ({**POTHOLE, "attributes": ["x"]}, 400, "bad_request", None),
    ({**POTHOLE, "description": 7}, 400, "bad_request", None),
])
def test_bad_requests_get_precise_errors(services, desk, body, status, code, field) -> None:  # type: ignore[no-untyped-def]
    sid, _offer = offered(services, desk)
    refused = desk.post(f"/calls/{sid}/requests", body)
    assert refused.status_code == status
    error = refused.get_json()["error"]
    assert error["code"] == code and error.get("field") == field
    assert desk.get(f"/calls/{sid}/requests").get_json()["requests"] == []


def test_bad_changes_get_precise_errors(services, desk) -> None:  # type: ignore[no-untyped-def]
    sid, _offer = offered(services, desk)
    number = desk.post(f"/calls/{sid}/requests", POTHOLE).get_json()["request"]["number"]
    cases = [
        (f"/calls/{sid}/requests/26-99999999", {"note": "x"}, 404, "unknown_request"),
        (f"/calls/{sid}/requests/{number}", {}, 400, "bad_request"),
        (f"/calls/{sid}/requests/{number}", {"status": "lost"}, 400, "invalid_request"),
        (f"/calls/{sid}/requests/{number}", {"status_notes": "x"}, 400, "bad_request"),
        (f"/calls/{sid}/requests/{number}", {"service_code": "streetlight-out"}, 400,
         "invalid_request"),
    ]
    for path, body, status, code in cases:
        refused = desk.patch(path, body)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (status, code), path
    request = desk.get(f"/calls/{sid}/requests").get_json()["requests"][0]
    assert request["service_code"] == "pothole" and request["status"] == "open"


def test_csrf_roles_and_ownership(app: Flask, services, desk) -> None:  # type: ignore[no-untyped-def]
    sid, _offer = offered(services, desk)
    for refused in (desk.post(f"/calls/{sid}/requests", POTHOLE, token=""),
                    desk.post(f"/calls/{sid}/requests", POTHOLE, token="forged")):
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "csrf_failed"
    number = desk.post(f"/calls/{sid}/requests", POTHOLE).get_json()["request"]["number"]
    refused = desk.patch(f"/calls/{sid}/requests/{number}", {"note": "x"}, token="forged")
    assert refused.status_code == 403
    other = Desk(app.test_client(), add_account(services))
    for response in (other.get(f"/calls/{sid}/requests"),
                     other.post(f"/calls/{sid}/requests", POTHOLE),
                     other.patch(f"/calls/{sid}/requests/{number}", {"note": "x"})):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "not_your_call"
    assert app.test_client().get(f"/api/v1/calls/{sid}/requests").status_code == 401
    supervisor = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    assert supervisor.get(f"/calls/{sid}/requests").status_code == 200
    missing = supervisor.post("/calls/CAnothing/requests", POTHOLE)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "unknown_call"
    admin_only = Desk(app.test_client(), add_account(services, roles=("admin",)))
    assert admin_only.get("/services").status_code == 200


def test_a_call_queued_by_the_flow_shows_what_the_phone_collected(services, desk) -> None:  # type: ignore[no-untyped-def]
    sid = queue_call(services, topic="streetlight")
    with services.engine.begin() as conn:
        calllog.add_event(conn, sid, services.clock(), "enqueue", "general", {
            "vars": {"topic": "streetlight", "service": "streetlight-out",
                     "answer_problem": "out", "address_recording": "https://rec/1",
                     "callback_number": "", "announcement": ""}})
    supervisor = Desk(desk.client.application.test_client(),
                      add_account(services, roles=("supervisor",)))
    collected = supervisor.get(f"/calls/{sid}/requests").get_json()["collected"]
    assert collected == {"topic": "streetlight", "service": "streetlight-out",
                         "address_recording": "https://rec/1", "answer_problem": "out"}
