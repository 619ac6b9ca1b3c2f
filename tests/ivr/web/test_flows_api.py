"""The flows API on the real app, both backends: roles, CSRF, save/check/publish/rollback,
diagram, test calls and line announcements."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from ivr.calls.models import Call
from ivr.flows.versions import versions_of
from ivr.platform.db import transaction
from ivr.service_requests.models import CallRequestLink, ServiceRequest
from ivr.service_requests.service import create_request
from ivr.services import Services
from tests.ivr.console_support import Desk, add_account
from tests.ivr.flow_support import MAIN_EN, TEXT_311, edited, line_of


@pytest.fixture
def supervisor(app: Flask, services: Services) -> Desk:
    return Desk(app.test_client(), add_account(services, roles=("supervisor",)))


@pytest.fixture
def call_taker(app: Flask, services: Services) -> Desk:
    return Desk(app.test_client(), add_account(services))


def test_only_supervisors_and_admins_and_every_refusal_is_audited(
        app: Flask, services: Services, call_taker: Desk, supervisor: Desk,
        caplog: pytest.LogCaptureFixture) -> None:
    admin = Desk(app.test_client(), add_account(services, roles=("admin",)))
    assert admin.get("/flows").status_code == 200
    assert supervisor.get("/flows").status_code == 200
    attempts = [
        call_taker.get("/flows"),
        call_taker.get("/flows/311"),
        call_taker.post("/flows/311/draft", {"text": TEXT_311, "revision": 1}),
        call_taker.post("/flows/311/publish", {"revision": 1}),
        call_taker.post("/flows/311/rollback", {}),
        call_taker.post("/announcements/311", {"on": False}),
    ]
    for reply in attempts:
        assert reply.status_code == 403
        assert reply.get_json()["error"]["code"] == "forbidden"
        assert "only supervisors and admins" in reply.get_json()["error"]["message"]
    logged = [r.getMessage() for r in caplog.records if r.name == "ivr.flows"
              and r.getMessage().startswith("refused ")]
    assert len(logged) == len(attempts)
    assert f"refused publish-flows on flow:311 by {call_taker.login}: needs the role " \
           "supervisor or admin; has call-taker" in logged
    refused = [e for e in versions_of(services).audit() if e["action"] == "refused"]
    assert len(refused) == len(attempts)
    assert {e["actor"] for e in refused} == {call_taker.login}
    assert {e["subject"] for e in refused} >= {"flow:311", "line:311"}
    assert any(e["detail"].startswith("publish-flows:") for e in refused)
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/flows").status_code == 401
    page = call_taker.client.get("/console/flows/311")
    assert page.status_code == 403 and "Only supervisors and admins" in page.get_data(True)


def test_writes_need_the_csrf_token(supervisor: Desk) -> None:
    reply = supervisor.post("/flows/311/draft", {"text": TEXT_311, "revision": 1}, token="")
    assert reply.status_code == 403
    assert reply.get_json()["error"]["code"] == "csrf_failed"


def test_edit_check_publish_rollback_through_the_api(supervisor: Desk) -> None:
    flow = supervisor.get("/flows/311").get_json()
    assert flow["draft"]["revision"] == 1 and flow["draft"]["live_version"] == 1
    assert flow["problems"] == [] and flow["lines"] == ["311"]

    broken = edited("      1: report\n", "      1: reprot\n")
    saved = supervisor.post("/flows/311/draft", {"text": broken, "revision": 1}).get_json()
    assert saved["revision"] == 2
    assert saved["problems"] == [{"line": line_of(broken, "1: reprot"), "file": "311.yaml",
                                  "message": "menu 'main': key 1 goes to 'reprot', which is not "
                                             "a node (did you mean 'report'?)"}]
    refused = supervisor.post("/flows/311/publish", {"revision": 2})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "flow_invalid" and error["problems"] == saved["problems"]
    diagram = supervisor.get("/flows/311/diagram")
    assert diagram.status_code == 422 and diagram.get_json()["error"]["problems"]

    stale = supervisor.post("/flows/311/draft", {"text": TEXT_311, "revision": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "draft_conflict"
    assert stale.get_json()["error"]["revision"] == 2
    assert f"saved by {supervisor.login}" in stale.get_json()["error"]["message"]

    fixed = edited(MAIN_EN, "To report a problem, press 1.")
    saved = supervisor.post("/flows/311/draft", {"text": fixed, "revision": 2}).get_json()
    assert saved == {"revision": 3, "problems": [], "unchanged": False}
    again = supervisor.post("/flows/311/draft", {"text": fixed, "revision": 3}).get_json()
    assert again == {"revision": 3, "problems": [], "unchanged": True}  # no new revision
    diff = supervisor.get("/flows/311/diff?from=live&to=draft").get_json()
    assert (diff["added"], diff["removed"]) == (1, 1) and "+        To report" in diff["unified"]
    published = supervisor.post("/flows/311/publish", {"revision": 3, "note": "short"})
    assert published.status_code == 200 and published.get_json()["live_version"] == 2
    again = supervisor.post("/flows/311/publish", {"revision": 3})
    assert again.status_code == 409 and "nothing to publish" in again.get_json()["error"]["message"]
    versions = supervisor.get("/flows/311/versions").get_json()["versions"]
    assert [(v["version"], v["live"]) for v in versions] == [(2, True), (1, False)]
    assert supervisor.get("/flows/311/versions/1").get_json()["text"] == TEXT_311

    back = supervisor.post("/flows/311/rollback", {})
    assert back.get_json() == {"flow": "311", "live_version": 1}
    assert supervisor.post("/flows/311/rollback", {"version": 5}).status_code == 404
    actions = [e["action"] for e in supervisor.get("/flows/311/audit").get_json()["entries"]]
    assert actions == ["rollback", "publish-refused", "publish", "save", "save-conflict",
                       "publish-refused", "save", "import"]


def test_bad_requests_are_precise(supervisor: Desk) -> None:
    cases = [
        (supervisor.post("/flows/311/draft", {"text": 5, "revision": 1}), 400),
        (supervisor.post("/flows/311/draft", {"text": "x", "revision": "1"}), 400),
        (supervisor.post("/flows/311/draft", {"text": "x" * 200_001, "revision": 1}), 413),
        (supervisor.post("/flows/nope/draft", {"text": "x", "revision": 1}), 404),
        (supervisor.get("/flows/311/diff?from=yesterday"), 400),
        (supervisor.get("/flows/311/versions/9"), 404),
        (supervisor.post("/flows/311/trial", {"answers": [1]}), 400),
        (supervisor.post("/flows/311/trial", {"answers": ["1", "x"]}), 400),
        (supervisor.post("/flows/311/trial", {"at": "soon"}), 400),
        (supervisor.post("/announcements/999", {"on": False}), 404),
        (supervisor.post("/announcements/311", {"on": "yes"}), 400),
    ]
    for reply, status in cases:
        assert reply.status_code == status, reply.get_json()
        assert reply.get_json()["error"]["message"]


def test_the_diagram_and_graph_come_from_the_parsed_flow(supervisor: Desk) -> None:
    graph = supervisor.get("/flows/311/graph?version=live").get_json()
    ids = {n["id"] for n in graph["nodes"]}
    assert {"welcome", "main", "agent_general", "emergency"} <= ids
    edges = {(e["from"], e["to"]): e for e in graph["edges"]}
    assert edges[("hours", "main")]["labels"] == ["open"]
    assert edges[("main", "report")]["labels"][0] == "1"
    svg = supervisor.get("/flows/311/diagram?version=1")
    assert svg.mimetype == "image/svg+xml"
    body = svg.get_data(as_text=True)
    assert body.startswith("<svg") and "<style>" in body
    assert 'data-node="main"' in body and f'data-line="{line_of(TEXT_311, "  main:")}"' in body
    embedded = supervisor.get("/flows/311/diagram?embed=1").get_data(as_text=True)
    assert "<style>" not in embedded and "http" not in embedded.replace(
        "http://www.w3.org/2000/svg", "")  # nothing to fetch from anywhere


def redis_keys(services: Services) -> set[bytes]:
    return set(services.redis.scan_iter(match=f"*{{{services.settings.center}}}*"))


def call_rows(services: Services) -> int:
    with services.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Call)) or 0)


def test_a_test_call_runs_the_draft_not_the_live_flow(supervisor: Desk, services: Services) -> None:
    draft = edited("Para español, oprima el 2.", "Para español, oprima el 2 ahora.")
    draft = edited("To report a problem, like a pothole", "DRAFT: to report a problem, like a "
                   "pothole", draft)
    supervisor.post("/flows/311/draft", {"text": draft, "revision": 1})
    keys_before, rows_before = redis_keys(services), call_rows(services)
    first = supervisor.post("/flows/311/trial", {"answers": []}).get_json()
    assert first["waiting_for"] == "keys"
    heard = first["turns"][0]["heard"]
    assert [h["language"] for h in heard] == ["en-US", "es-US"]
    assert heard[1]["text"].startswith("Para español, oprima el 2 ahora.")
    english = supervisor.post("/flows/311/trial", {"answers": ["1"]}).get_json()
    assert english["turns"][-1]["heard"][0]["text"].startswith("DRAFT: to report")
    # Spanish, report a problem, streetlight, then silence at the offer to file by phone
    spanish = supervisor.post("/flows/311/trial", {"answers": ["2", "1", "1", ""]}).get_json()
    assert all(h["language"] == "es-US" for t in spanish["turns"][1:] for h in t["heard"])
    assert spanish["waiting_for"] is None
    assert spanish["ending"] == ("the caller would wait for a call-taker: queue 'general', "
                                 "priority 5, skills line:311, topic:streets, lang:es")
    assert spanish["path"][-1] == "queue_streets"
    emergency = supervisor.post("/flows/311/trial", {"answers": ["9"]}).get_json()
    assert emergency["ending"] == "the call would be transferred to line 911 (menu-emergency)"
    assert emergency["turns"][-1]["heard"][0]["text"] == "Connecting you to 9 1 1."
    live = supervisor.post("/flows/311/trial", {"answers": ["1"], "version": "live"}).get_json()
    assert live["turns"][-1]["heard"][0]["text"].startswith("To report a problem")
    night = supervisor.post("/flows/311/trial",
                            {"answers": ["1"], "at": "2026-11-22T23:00"}).get_json()
    assert night["turns"][-1]["heard"][0]["text"].startswith("Our call center is closed")
    message = supervisor.post("/flows/311/trial", {"answers": ["1", "1"],
                                                   "at": "2026-11-22T23:00"}).get_json()
    assert message["waiting_for"] == "recording"
    saved = supervisor.post("/flows/311/trial", {"answers": ["1", "1", "record"],
                                                 "at": "2026-11-22T23:00"}).get_json()
    assert saved["ending"] == "the flow hung up"
    assert saved["turns"][-1]["heard"][0]["text"].startswith("Thank you. Your message has been")
    # Nothing of the trials reached the live line: no Redis key, no call record.
    assert redis_keys(services) == keys_before
    assert call_rows(services) == rows_before


def test_a_test_call_looks_requests_up_for_real_and_files_nothing(  # type: ignore[no-untyped-def]
        supervisor: Desk, services: Services) -> None:
    with transaction(services.sessions) as session:
        request = create_request(session, service_code="streetlight-out", at=services.clock(),
                                 description="Light out on pole 4471",
                                 address="3001 Harford Rd",
                                 attributes={"problem": "out", "how-many": "one"})
        number = request.number
    digits = "".join(ch for ch in number if ch.isdigit())
    rows_before, kept_before = call_rows(services), request_rows(services)

    found = supervisor.post("/flows/311/trial",
                            {"answers": ["1", "2", digits + "#", "1"]}).get_json()
    said = " ".join(h["text"] for t in found["turns"] for h in t["heard"])
    assert "status_found" in found["path"], found
    assert " is open" in said
    unknown = supervisor.post("/flows/311/trial",
                              {"answers": ["1", "2", "99999999#", "1"]}).get_json()
    assert "status_not_found" in unknown["path"]

    # report a problem, streetlight, file now: the trial stops where the app would file
    answers = ["1", "1", "1", "1"]
    filing = supervisor.post("/flows/311/trial", {"answers": answers}).get_json()
    while filing["waiting_for"] and len(answers) < 12:
        answers.append("record" if filing["waiting_for"] == "recording" else "1")
        filing = supervisor.post("/flows/311/trial", {"answers": answers}).get_json()
    assert filing["ending"].startswith("the app would file 'service_request'"), filing
    assert request_rows(services) == kept_before  # nothing filed, nothing linked
    assert call_rows(services) == rows_before


def request_rows(services: Services) -> tuple[int, int]:
    with services.engine.connect() as conn:
        return (int(conn.scalar(select(func.count()).select_from(ServiceRequest)) or 0),
                int(conn.scalar(select(func.count()).select_from(CallRequestLink)) or 0))


def test_a_storm_message_is_switched_on_in_one_step(supervisor: Desk) -> None:
    lines = {r["line"]: r for r in supervisor.get("/announcements").get_json()["lines"]}
    assert lines["311"]["speaks"] and not lines["311"]["on"]
    assert lines["311"]["languages"] == {"en": "en-US", "es": "es-US"}
    message = {"en": "City offices are closed today because of the storm.",
               "es": "Las oficinas de la ciudad están cerradas hoy por la tormenta."}
    missing = supervisor.post("/announcements/311", {"on": True, "text": {"en": message["en"]}})
    assert missing.status_code == 422
    assert "es is missing" in missing.get_json()["error"]["message"]
    on = supervisor.post("/announcements/311", {"on": True, "text": message}).get_json()
    assert on["on"] and on["text"] == message and on["set_by"] == supervisor.login
    heard = supervisor.post("/flows/311/trial", {"answers": ["2"]}).get_json()
    assert heard["turns"][1]["heard"][0] == {"text": message["es"], "language": "es-US"}
    if not lines["911"]["speaks"]:
        refused = supervisor.post("/announcements/911", {"on": True, "text": {"en": "x"}})
        assert refused.status_code == 422
        assert "never speaks an announcement" in refused.get_json()["error"]["message"]
    off = supervisor.post("/announcements/311", {"on": False}).get_json()
    assert not off["on"]
    audit = supervisor.get("/announcements/311/audit").get_json()["entries"]
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("announcement-off", supervisor.login), ("announcement-on", supervisor.login)]


def test_the_pages_are_served_with_a_strict_policy(supervisor: Desk) -> None:
    for path in ("/console/flows/", "/console/flows/311"):
        page = supervisor.client.get(path)
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert 'name="csrf-token"' in page.get_data(as_text=True)
    assert supervisor.client.get("/console/flows/nope").status_code == 404
    assert supervisor.client.get("/static/flows/editor.js").status_code == 200


def test_a_deeply_nested_flow_is_a_problem_with_a_line_not_a_500(supervisor: Desk) -> None:
    for text in ("[" * 5000, "[" * 5000 + "]" * 5000,
                 "flow: '311'\nnodes:\n  a: " + "{k: " * 3000 + "1" + "}" * 3000 + "\n"):
        response = supervisor.post("/flows/311/check", {"text": text})
        assert response.status_code == 200, response.status_code
        problems = response.get_json()["problems"]
        assert problems and problems[0]["line"] >= 1 and "nests" in problems[0]["message"]
        assert response.get_json()["graph"] is None
