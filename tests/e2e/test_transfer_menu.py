"""The 311 menu's emergency option straight to the 911 dispatch center, and 911 calls
reclassified as 311, end to end."""

from __future__ import annotations

from ivr.sim import answers, busy, press, say, wait
from ivr.transfers import actions as transfers
from tests.e2e.conftest import LINE_911
from tests.e2e.floor import Floor
from tests.e2e.helpers import enqueued, events
from tests.e2e.helpers import record as sql_record
from tests.e2e.test_connect import PATIENT
from tests.e2e.transfer_support import PSAP, dispatch_center, handoff, steps, transfers_of

EMERGENCY_KEYS = [press("1"), press("9"), wait(300)]


def test_press_9_dials_the_911_dispatch_center_at_once_with_a_menu_hand_off(settings) -> None:
    center = dispatch_center(settings, menu=True)
    center.sim.on_dial(PSAP, answers(after=4, hangup_after=40))
    call = center.call(EMERGENCY_KEYS)
    center.run(max_seconds=200)
    [leg] = [c for c in center.sim.calls.values() if c.to == PSAP]
    assert leg.direction == "outbound-dial" and leg.duration >= 39
    assert "Connecting you to 9 1 1" in call.heard_text()
    assert enqueued(center, call.sid) is None  # never waited in any queue
    [t] = transfers_of(center, call.sid)
    assert (t.mode, t.origin, t.center, t.state) == ("menu", "menu", "psap", "connected")
    assert steps(center, t.id) == ["started", "connected"]
    doc = handoff(center, t.id).payload
    assert "origin menu" in doc["additionalDataComponent"][0]["additionalDataByValue"]
    assert doc["callbackComponent"][0]["callBackInformationUri"] == ["tel:+14105550100"]
    assert sql_record(center, call.sid).outcome == "transferred"
    assert not call.application_error
    center.close()


def test_saying_emergency_in_spanish_does_the_same(settings) -> None:
    center = dispatch_center(settings, menu=True)
    center.sim.on_dial(PSAP, answers(after=2, hangup_after=10))
    call = center.call([press("2"), say("es una emergencia", confidence=0.8), wait(100)])
    center.run(max_seconds=200)
    [t] = transfers_of(center, call.sid)
    assert (t.origin, t.state) == ("menu", "connected")
    assert "Le estamos comunicando con el 9 1 1" in call.heard_text()
    center.close()


def test_menu_transfer_to_a_busy_dispatch_line_follows_the_flows_failure_path(settings) -> None:
    center = dispatch_center(settings, menu=True)
    center.sim.on_dial(PSAP, busy())
    call = center.call(EMERGENCY_KEYS)
    center.run(max_seconds=120)
    [t] = transfers_of(center, call.sid)
    assert (t.state, t.reason) == ("failed", "busy")
    assert "We could not connect you to 9 1 1" in call.heard_text()
    assert enqueued(center, call.sid) is not None  # a call-taker, never silence
    center.close()


def test_911_call_reclassified_goes_to_the_front_of_the_311_queue(settings) -> None:
    center = dispatch_center(settings)
    floor = Floor(center)
    floor.login("bob", skills=("line:911",), phone=answers(after=3, hangup_after=600))
    emergency = center.call([wait(900)], line=LINE_911)
    early_311 = center.call(PATIENT, caller="+14105550101")  # in line since ~42
    floor.run(until=40)
    assert floor.state("bob") == "on_call"
    with center.services.engine.begin() as conn:
        from ivr.calls import callview

        callview.add_note(conn, emergency.sid, center.clock.now(), "bob", "no emergency: "
                          "a streetlight out since last week")
    floor.run(until=60)
    t = transfers.reclassify(center.services, emergency.sid, "bob")
    assert (t.mode, t.state) == ("reclassify", "requeued")
    floor.run(until=62)
    now = center.clock.now().timestamp()
    queues = center.services.queues
    assert queues.position(emergency.sid, now) == 1
    assert queues.position(early_311.sid, now) == 2
    assert floor.state("bob") == "wrap_up"
    floor.login("carol", skills=("line:311",))
    floor.run(until=70)
    carol = center.services.agents.get("carol")
    assert carol.state.value == "on_call" and carol.call_id == emergency.sid
    kinds = [k for k, _d, _x in events(center, emergency.sid)]
    assert "reclassified" in kinds and kinds.count("bridged") == 2
    with center.services.engine.connect() as conn:
        view = callview.describe_call(conn, emergency.sid)
    assert view["notes"][0]["text"].startswith("no emergency")  # what was recorded so far
    assert sql_record(center, emergency.sid).queue_class == "general"
    assert not emergency.application_error
    center.close()
