"""A supervisor listens to, coaches and barges into a live call, end to end: a resident's call
is accepted on the console API, the supervisor acts through the JSON API with their own
session, the emulator plays Twilio (the conference, the Participants updates, the supervisor's
phone) and says who hears whom at each step; the call-taker's console shows the supervisor;
every action is in the audit log; a call-taker is refused."""

from __future__ import annotations

from typing import Any

import pytest

from ivr.floor.models import AuditEntry
from ivr.sim import answers, no_answer
from tests.ivr.console_support import Desk, add_account, emulated_offer


def on_call(center) -> tuple[Desk, str, Any]:  # type: ignore[no-untyped-def]
    """A call-taker talking to a resident; returns their desk, the call and their leg."""
    desk = Desk(center.app.test_client(), add_account(center.services))
    assert desk.post("/presence/available").status_code == 200
    sid, offer = emulated_offer(center, desk)
    assert desk.post(f"/offers/{offer['reservation']}/accept").status_code == 200
    center.sim.advance(5)
    assert desk.get("/call").get_json()["call"]["connected"] is True
    [leg] = [c for c in center.sim.calls.values() if c.to == f"client:{desk.login}"]
    return desk, sid, leg


def supervisor(center, phone=None) -> Desk:  # type: ignore[no-untyped-def]
    login = add_account(center.services, roles=("supervisor",), skills=(), name="Sam Boss")
    center.sim.on_dial(f"client:{login}", phone or answers(after=2, hangup_after=900))
    return Desk(center.app.test_client(), login)


def hearing(center, who: dict[str, str]) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(listener, speaker) pairs, by name, that the emulator's conference mixes now."""
    conf = center.sim.calls[who["caller"]].participant.conference
    return {(a, b) for a, x in who.items() for b, y in who.items() if conf.hears(x, y)}


BOTH_WAYS = {("caller", "agent"), ("agent", "caller")}
SUP_HEARS = {("sup", "caller"), ("sup", "agent")}


def test_listen_coach_barge_switch_and_leave(center) -> None:  # type: ignore[no-untyped-def]
    taker, sid, agent_leg = on_call(center)
    boss = supervisor(center)

    live = boss.get("/live-calls").get_json()
    [row] = [c for c in live["calls"] if c["call"] == sid]
    assert (row["agent"], row["supervisor"], live["mine"]) == (taker.login, None, None)

    started = boss.post(f"/calls/{sid}/monitor", {"mode": "listen"})
    assert started.status_code == 201, started.get_json()
    watching = started.get_json()["monitoring"]
    assert (watching["mode"], watching["status"], watching["agent"]) == (
        "listen", "ringing", taker.login)
    early = boss.post(f"/calls/{sid}/monitor", {"mode": "coach"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_joined"
    center.sim.advance(4)  # the supervisor's phone answers after 2 s and joins
    assert boss.get("/live-calls").get_json()["mine"]["status"] == "joined"
    who = {"caller": sid, "agent": agent_leg.sid, "sup": watching["leg"]}

    # listen: the supervisor hears both; nobody hears the supervisor
    assert hearing(center, who) == BOTH_WAYS | SUP_HEARS
    seen = taker.get("/call").get_json()["call"]["supervisor"]
    assert seen == {"login": boss.login, "name": "Sam Boss", "mode": "listen",
                    "status": "joined"}

    # coach: the call-taker hears the supervisor, the caller does not
    switched = boss.post(f"/calls/{sid}/monitor", {"mode": "coach"})
    assert switched.status_code == 200 and switched.get_json()["monitoring"]["mode"] == "coach"
    assert hearing(center, who) == BOTH_WAYS | SUP_HEARS | {("agent", "sup")}
    assert taker.get("/call").get_json()["call"]["supervisor"]["mode"] == "coach"

    # barge: everyone hears everyone
    assert boss.post(f"/calls/{sid}/monitor", {"mode": "barge"}).status_code == 200
    assert hearing(center, who) == BOTH_WAYS | SUP_HEARS | {("agent", "sup"), ("caller", "sup")}

    # and back to listening
    assert boss.post(f"/calls/{sid}/monitor", {"mode": "listen"}).status_code == 200
    assert hearing(center, who) == BOTH_WAYS | SUP_HEARS
    center.sim.advance(2)

    # a second supervisor cannot take the call over
    other = supervisor(center)
    taken = other.post(f"/calls/{sid}/monitor", {"mode": "barge"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "monitored"

    # leave: the supervisor's leg ends, caller and call-taker go on talking
    left = boss.post(f"/calls/{sid}/monitor/leave")
    assert left.status_code == 200 and left.get_json() == {"monitoring": None}
    center.sim.advance(2)
    sup_leg = center.sim.calls[who["sup"]]
    assert sup_leg.status == "completed" and sup_leg.participant is None
    assert hearing(center, who) == BOTH_WAYS
    assert taker.get("/call").get_json()["call"]["supervisor"] is None
    assert boss.get("/live-calls").get_json()["mine"] is None
    assert boss.post(f"/calls/{sid}/monitor/leave").status_code == 409

    audit = boss.get(f"/calls/{sid}/monitor/audit").get_json()["entries"]
    assert [(e["actor"], e["action"], e["data"]["mode"]) for e in audit] == [
        (boss.login, "monitor-start", "listen"),
        (boss.login, "monitor-joined", "listen"),
        (boss.login, "monitor-mode", "coach"),
        (boss.login, "monitor-mode", "barge"),
        (boss.login, "monitor-mode", "listen"),
        (boss.login, "monitor-leave", "listen"),
    ]
    assert all(e["subject"] == f"call:{sid}" and e["data"]["agent"] == taker.login
               and e["data"]["leg"] == who["sup"] for e in audit)
    assert [e["data"].get("from") for e in audit if e["action"] == "monitor-mode"] == [
        "listen", "coach", "barge"]
    assert not any(c.application_error for c in center.sim.calls.values())


def test_a_call_taker_cannot_listen_in(center) -> None:  # type: ignore[no-untyped-def]
    _taker, sid, _leg = on_call(center)
    peer = Desk(center.app.test_client(), add_account(center.services))
    for response in (peer.post(f"/calls/{sid}/monitor", {"mode": "listen"}),
                     peer.post(f"/calls/{sid}/monitor/leave"), peer.get("/live-calls"),
                     peer.get(f"/calls/{sid}/monitor/audit")):
        assert response.status_code == 403, response.get_json()
    boss = supervisor(center)
    refused = boss.post(f"/calls/{sid}/monitor", {"mode": "listen"}, token="forged")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    with center.services.sessions() as session:
        assert session.query(AuditEntry).filter_by(subject=f"call:{sid}").count() == 0
    assert len([c for c in center.sim.calls.values() if c.to == f"client:{boss.login}"]) == 0


@pytest.mark.parametrize("mode", ["coach", "barge"])
def test_the_call_ending_ends_the_monitoring(center, mode: str) -> None:  # type: ignore[no-untyped-def]
    taker, sid, agent_leg = on_call(center)
    boss = supervisor(center)
    assert boss.post(f"/calls/{sid}/monitor", {"mode": mode}).status_code == 201
    center.sim.advance(4)
    leg = boss.get("/live-calls").get_json()["mine"]["leg"]
    conf = center.sim.calls[sid].participant.conference
    assert conf.audience(leg) == ({agent_leg.sid} if mode == "coach" else {agent_leg.sid, sid})
    assert taker.post("/call/end").status_code == 200
    center.sim.advance(3)
    assert center.sim.calls[leg].status == "completed"
    assert boss.get("/live-calls").get_json()["mine"] is None
    audit = boss.get(f"/calls/{sid}/monitor/audit").get_json()["entries"]
    assert [e["action"] for e in audit] == ["monitor-start", "monitor-joined", "monitor-ended"]


def test_a_supervisor_phone_that_does_not_answer_frees_the_call(center) -> None:  # type: ignore[no-untyped-def]
    _taker, sid, _leg = on_call(center)
    boss = supervisor(center, phone=no_answer())
    assert boss.post(f"/calls/{sid}/monitor", {"mode": "listen"}).status_code == 201
    center.sim.advance(30)
    assert boss.get("/live-calls").get_json()["mine"] is None
    audit = boss.get(f"/calls/{sid}/monitor/audit").get_json()["entries"]
    assert [(e["action"], e["data"].get("leg_status")) for e in audit] == [
        ("monitor-start", None), ("monitor-ended", "no-answer")]
    # and the call is free to join again
    assert boss.post(f"/calls/{sid}/monitor", {"mode": "listen"}).status_code == 201


def test_refusals_are_precise(center) -> None:  # type: ignore[no-untyped-def]
    boss = supervisor(center)
    missing = boss.post("/calls/CA0000/monitor", {"mode": "listen"})
    assert missing.status_code == 409 and missing.get_json()["error"]["code"] == "not_connected"
    bad = boss.post("/calls/CA0000/monitor", {"mode": "whisper"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_mode"
    extra = boss.post("/calls/CA0000/monitor", {"mode": "listen", "to": "+14105550100"})
    assert extra.status_code == 400 and extra.get_json()["error"]["code"] == "bad_request"


def test_the_supervisor_stays_after_a_warm_transfer_and_can_leave(settings) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.transfer_support import PSAP, dispatch_center

    center = dispatch_center(settings)
    try:
        center.sim.on_dial(PSAP, answers(after=4, hangup_after=300))
        taker, sid, agent_leg = on_call(center)
        boss = supervisor(center)
        assert boss.post(f"/calls/{sid}/monitor", {"mode": "listen"}).status_code == 201
        center.sim.advance(4)
        assert taker.post("/call/transfer", {"center": "psap"}).status_code == 201
        center.sim.advance(6)
        assert taker.post("/call/transfer/complete").status_code == 200
        center.sim.advance(3)
        mine = boss.get("/live-calls").get_json()
        assert sid not in {c["call"] for c in mine["calls"]}  # the call-taker is gone ...
        assert mine["mine"]["call"] == sid  # ... the supervisor still hears caller and dispatch
        [dispatch] = [c for c in center.sim.calls.values() if c.to == PSAP]
        conf = center.sim.calls[sid].participant.conference
        leg = mine["mine"]["leg"]
        assert conf.hears(leg, sid) and conf.hears(leg, dispatch.sid) and not conf.audience(leg)
        assert agent_leg.participant is None
        refused = boss.post(f"/calls/{sid}/monitor", {"mode": "barge"})
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == \
            "not_connected"
        assert boss.post(f"/calls/{sid}/monitor/leave").status_code == 200
        center.sim.advance(2)
        assert center.sim.calls[leg].status == "completed"
        assert conf.hears(sid, dispatch.sid)  # the caller and the dispatcher go on
    finally:
        center.close()


def test_a_claim_whose_leg_ended_unheard_does_not_pin_the_call(center) -> None:  # type: ignore[no-untyped-def]
    """The supervisor's phone hangs up while the app is down (its final callback is lost):
    the next supervisor who asks finds the leg over at Twilio and takes the call."""
    _taker, sid, agent_leg = on_call(center)
    first = supervisor(center)
    assert first.post(f"/calls/{sid}/monitor", {"mode": "listen"}).status_code == 201
    center.sim.advance(4)
    leg = first.get("/live-calls").get_json()["mine"]["leg"]
    center.sim.take_down()
    center.sim.hangup(leg)
    center.sim.advance(2)
    center.sim.bring_up()
    assert first.get("/live-calls").get_json()["mine"]["leg"] == leg  # nobody told the app
    second = supervisor(center)
    taken = second.post(f"/calls/{sid}/monitor", {"mode": "coach"})
    assert taken.status_code == 201, taken.get_json()
    assert first.get("/live-calls").get_json()["mine"] is None
    center.sim.advance(4)
    new_leg = taken.get_json()["monitoring"]["leg"]
    assert center.sim.calls[sid].participant.conference.audience(new_leg) == {agent_leg.sid}
    audit = first.get(f"/calls/{sid}/monitor/audit").get_json()["entries"]
    assert [(e["actor"], e["action"]) for e in audit] == [
        (first.login, "monitor-start"), (first.login, "monitor-joined"),
        (first.login, "monitor-ended"), (second.login, "monitor-start"),
        (second.login, "monitor-joined")]
    assert audit[2]["data"]["leg_status"] == "completed"
