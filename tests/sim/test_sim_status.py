"""Status callbacks: parameters, SequenceNumber, and late, duplicated, out-of-order delivery."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

from sim_helpers import ALL_EVENTS, CALLER, NUMBER, PUBLIC, App, make_sim, status_app

from ivr.sim import Caller, StatusPolicy
from ivr.sim.call import Webhook


def outbound(sim, n: int = 1) -> list:
    hook = Webhook(PUBLIC + "/voice", status_callback=PUBLIC + "/status",
                   status_callback_events=ALL_EVENTS)
    return [sim.create_call(f"+1410555{i:04d}", NUMBER, hook) for i in range(n)]


def test_an_inbound_call_reports_its_completion(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status_callback=PUBLIC + "/status")
    call = sim.place_call(Caller(CALLER, NUMBER))
    sim.run_until_idle()
    [hit] = app.hits("/status")
    p = hit.params
    assert hit.signed
    assert (p["CallSid"], p["CallStatus"], p["CallDuration"]) == (call.sid, "completed", "4")
    assert (p["CallbackSource"], p["SequenceNumber"], p["Direction"]) == (
        "call-progress-events", "0", "inbound")
    assert parsedate_to_datetime(p["Timestamp"]) == sim.clock.start + timedelta(seconds=3)
    assert call.events("status_callback")[0]["status"] == 204


def test_call_progress_events_come_in_sequence(app: App) -> None:
    status_app(app)
    sim = make_sim(app)
    [call] = outbound(sim)
    sim.run_until_idle()
    hits = [h.params for h in app.hits("/status")]
    assert [(p["CallStatus"], p["SequenceNumber"]) for p in hits] == [
        ("initiated", "0"), ("ringing", "1"), ("in-progress", "2"), ("completed", "3")]
    assert {p["Direction"] for p in hits} == {"outbound-api"}
    assert "CallDuration" not in hits[2] and hits[3]["CallDuration"] == "4"
    voice = app.hits("/voice")[0].params
    assert (voice["CallStatus"], voice["Direction"], voice["To"]) == (
        "in-progress", "outbound-api", call.to)


def test_shuffled_callbacks_arrive_at_the_end_in_any_order(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status=StatusPolicy(shuffle=True, seed=0))
    calls = outbound(sim, 12)
    sim.run_until_idle()
    by_call: dict[str, list[int]] = {}
    for hit in app.hits("/status"):
        by_call.setdefault(hit.params["CallSid"], []).append(int(hit.params["SequenceNumber"]))
    assert set(by_call) == {c.sid for c in calls}
    assert all(sorted(seqs) == [0, 1, 2, 3] for seqs in by_call.values())
    assert any(seqs != [0, 1, 2, 3] for seqs in by_call.values())
    assert any(seqs[0] == 3 for seqs in by_call.values())  # completed before everything else
    assert {e.t for c in calls for e in c.events("status_callback")} == {c.ended_t for c in calls}


def test_duplicated_and_late_callbacks(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status=StatusPolicy(duplicate=True, delay=30))
    [call] = outbound(sim)
    sim.run_until_idle()
    seqs = [h.params["SequenceNumber"] for h in app.hits("/status")]
    assert seqs == ["0", "0", "1", "1", "2", "2", "3", "3"]
    delivered = call.events("status_callback")
    assert delivered[0].t == 30 and delivered[-1].t == call.ended_t + 30


def test_held_callbacks_are_delivered_when_the_test_says(app: App) -> None:
    status_app(app)
    sim = make_sim(app, status=StatusPolicy(hold=True))
    [call] = outbound(sim)
    sim.run_until_idle()
    assert not app.hits("/status")
    assert [cb.event for cb in sim.pending_status(call)] == list(ALL_EVENTS)
    assert sim.deliver_status(call, "completed", duplicate=True) == 1
    assert [h.params["CallStatus"] for h in app.hits("/status")] == ["completed", "completed"]
    assert sim.deliver_status(call) == 3  # the rest, after the fact
    assert [h.params["SequenceNumber"] for h in app.hits("/status")][2:] == ["0", "1", "2"]
