"""The transfer actions and the dispatch inbox through the JSON API of the real app (signed-in
sessions, CSRF, roles), with the emulator playing Twilio."""

from __future__ import annotations

import pytest

from ivr.sim import answers, busy
from tests.e2e.transfer_support import PSAP, dispatch_center
from tests.ivr.console_support import Desk, add_account, emulated_offer


@pytest.fixture
def center(settings):  # type: ignore[no-untyped-def]
    c = dispatch_center(settings)
    yield c
    c.close()


def on_call(center) -> tuple[Desk, str]:  # type: ignore[no-untyped-def]
    desk = Desk(center.app.test_client(), add_account(center.services))
    assert desk.post("/presence/available").status_code == 200
    sid, offer = emulated_offer(center, desk)
    assert desk.post(f"/offers/{offer['reservation']}/accept").status_code == 200
    center.sim.advance(5)
    assert desk.get("/call").get_json()["call"]["connected"] is True
    return desk, sid


def test_warm_transfer_from_the_api_to_the_dispatchers_acknowledgement(center) -> None:
    center.sim.on_dial(PSAP, answers(after=4, hangup_after=120))
    desk, sid = on_call(center)
    centers = desk.get("/dispatch-centers").get_json()["centers"]
    assert {"name": "psap", "label": "County 911 dispatch", "secondary": True} in centers
    assert desk.get("/call/transfer").get_json() == {"transfer": None}

    started = desk.post("/call/transfer", {"center": "psap", "location": "7 Oak Rd",
                                           "note": "gas smell"})
    assert started.status_code == 201, started.get_json()
    t = started.get_json()["transfer"]
    assert (t["state"], t["mode"], t["center_label"]) == ("dialing", "warm",
                                                          "County 911 dispatch")
    assert t["options"] == {"complete": False, "cancel": True, "secondary": False, "cold": False}
    assert t["incident_summary"]["location"] == "7 Oak Rd"
    again = desk.post("/call/transfer", {"center": "psap"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == \
        "transfer_in_progress"
    early = desk.post("/call/transfer/complete")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_briefing"

    dispatcher = Desk(center.app.test_client(), add_account(center.services,
                                                            roles=("dispatcher",)))
    listed = dispatcher.get("/dispatch/transfers?limit=200").get_json()["transfers"]
    inbox = [x for x in listed if x["call_sid"] == sid]  # the test database is shared
    assert [x["id"] for x in inbox] == [t["id"]]
    assert inbox[0]["incident_summary"]["notes"] == ["gas smell"]
    assert inbox[0]["acknowledged_at"] is None

    center.sim.advance(5)
    briefing = desk.get("/call/transfer").get_json()["transfer"]
    assert briefing["state"] == "briefing" and briefing["options"]["complete"]
    done = desk.post("/call/transfer/complete")
    assert done.status_code == 200 and done.get_json()["transfer"]["state"] == "completed"
    center.sim.advance(2)
    assert desk.get("/me").get_json()["presence"]["state"] == "wrap_up"

    ack = dispatcher.post(f"/dispatch/transfers/{t['id']}/acknowledge")
    assert ack.status_code == 200
    acked = ack.get_json()["transfer"]
    assert acked["acknowledged_by"] == dispatcher.login and acked["acknowledged_at"]
    assert [s["kind"] for s in acked["steps"]][-1] == "acknowledged"
    assert acked["incident"]["eidoVersion"] == "1.0"
    again = dispatcher.post(f"/dispatch/transfers/{t['id']}/acknowledge").get_json()
    assert again["transfer"]["acknowledged_at"] == acked["acknowledged_at"]  # once
    detail = dispatcher.get(f"/dispatch/transfers/{t['id']}").get_json()["transfer"]
    assert detail["state"] == "completed" and detail["call_sid"] == sid


def test_failure_offers_the_secondary_destination_through_the_api(center) -> None:
    center.sim.on_dial(PSAP, busy(after=1))
    center.sim.on_dial("+14435550998", answers(after=2))
    desk, _sid = on_call(center)
    assert desk.post("/call/transfer", {"center": "psap"}).status_code == 201
    center.sim.advance(3)
    failed = desk.get("/call/transfer").get_json()["transfer"]
    assert (failed["state"], failed["reason"]) == ("failed", "busy")
    assert failed["options"] == {"complete": False, "cancel": False, "secondary": True,
                                 "cold": True}
    retry = desk.post("/call/transfer/secondary")
    assert retry.status_code == 201
    assert retry.get_json()["transfer"]["destination"] == "secondary"
    center.sim.advance(3)
    assert desk.post("/call/transfer/cancel").get_json()["transfer"]["state"] == "cancelled"
    assert desk.post("/call/transfer/cancel").get_json()["error"]["code"] == "not_live"


def test_precise_errors_roles_and_csrf(center) -> None:
    svc = center.services
    desk = Desk(center.app.test_client(), add_account(svc))
    none = desk.post("/call/transfer", {"center": "psap"})
    assert none.status_code == 409 and none.get_json()["error"]["code"] == "no_active_call"
    desk2, _sid = on_call(center)
    assert desk2.post("/call/transfer", {}).status_code == 400  # center required
    unknown = desk2.post("/call/transfer", {"center": "nowhere"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_center"
    no_backup = desk2.post("/call/transfer", {"center": "fire", "destination": "secondary"})
    assert no_backup.status_code == 400 and no_backup.get_json()["error"]["code"] == \
        "no_secondary"
    assert desk2.post("/call/transfer", {"center": "psap", "mode": "hot"}).status_code == 400
    forged = desk2.post("/call/transfer", {"center": "psap"}, token="forged")
    assert forged.status_code == 403 and forged.get_json()["error"]["code"] == "csrf_failed"
    assert desk2.get("/call/transfer").get_json()["transfer"] is None  # nothing was started
    dispatcher = Desk(center.app.test_client(), add_account(svc, roles=("dispatcher",)))
    assert dispatcher.post("/call/transfer", {"center": "psap"}).status_code == 403
    assert desk2.get("/dispatch/transfers").status_code == 403  # a call-taker is no dispatcher
    assert dispatcher.get("/dispatch/transfers/nope").status_code == 404
    assert dispatcher.post("/dispatch/transfers/nope/acknowledge").status_code == 404
    assert dispatcher.get("/dispatch/transfers?limit=x").status_code == 400
    anonymous = center.app.test_client()
    assert anonymous.get("/api/v1/dispatch/transfers").status_code == 401
    page = anonymous.get("/dispatch/")
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]
    assert dispatcher.client.get("/dispatch/").status_code == 200
    to_inbox = dispatcher.client.get("/console/")
    assert to_inbox.status_code == 302 and to_inbox.headers["Location"].endswith("/dispatch/")
    assert desk2.client.get("/dispatch/").status_code == 403
