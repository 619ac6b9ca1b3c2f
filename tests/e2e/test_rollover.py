"""Rollover of 911 callers to an alternate PSAP, end to end: the emulator places the calls,
plays the other PSAP's line (answers, busy), and the real app decides on its one-second tick.

The 911 line here rolls to ``psap`` after 20 s with nobody on duty, or after 45 s of waiting
whatever the floor."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime

import redis
from rq import Queue

from ivr.floor import audit, reports
from ivr.platform import outbox_jobs
from ivr.sim import answers, busy, hangup, wait
from ivr.sim.callers import press
from ivr.transfers import records, rollover
from tests.e2e.conftest import LINE_911, OPEN_HOURS, Center
from tests.e2e.floor import Floor
from tests.e2e.helpers import enqueued, events
from tests.e2e.helpers import record as sql_record
from tests.e2e.test_floor_figures import a_monday
from tests.e2e.transfer_support import (
    DISPATCH,
    PSAP,
    SECRET_ENV,
    dispatch_legs,
    handoff,
    transfers_of,
)
from tests.ivr.console_support import Desk, add_account
from tests.ivr.eido_schema import errors
from tests.ivr.handoff_receiver import Receiver
from tests.ivr.rq_support import BurstWorker

NO_STAFF_AFTER = 20
MAX_WAIT = 45
ROLLOVER = {"center": "psap", "no_staff_after": NO_STAFF_AFTER, "max_wait": MAX_WAIT,
            "retry_after": 30}
SECRET = "other-psap-secret"
ROLLING = "Connecting you to another 9 1 1 center."


def rollover_center(settings, handoff_url: str | None = None,  # type: ignore[no-untyped-def]
                    start: datetime = OPEN_HOURS, **rule) -> Center:
    lines = {name: dict(spec) for name, spec in settings.raw["lines"].items()}
    lines["911"]["rollover"] = {**ROLLOVER, **rule}
    centers = {k: dict(v) for k, v in DISPATCH.items()}
    if handoff_url:
        centers["psap"]["handoff_url"] = handoff_url
    raw = {**settings.raw, "lines": lines, "dispatch_centers": centers,
           "transfers": {**settings.raw.get("transfers", {}),
                         "handoff_queue": f"handoff-{settings.center}"}}
    return Center(dataclasses.replace(settings, raw=raw), start)


def kinds(center, sid: str, *only: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [k for k, _d, _x in events(center, sid, *only)]


def test_an_empty_floor_rolls_911_over_in_time_with_the_eido(settings, backend,
                                                             monkeypatch) -> None:
    receiver = Receiver(SECRET)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("IVR_DATABASE_URL", backend.database_url)  # the delivery job's settings
    monkeypatch.setenv("IVR_REDIS_URL", backend.redis_url)
    center = rollover_center(settings, handoff_url=receiver.url)
    try:
        center.sim.on_dial(PSAP, answers(after=4, hangup_after=60))
        floor = Floor(center)
        caller = center.call([wait(600), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 60)
        [t] = transfers_of(center, caller.sid)
        assert (t.mode, t.origin, t.center, t.state) == ("rollover", "no-staff", "psap",
                                                         "connected")
        [leg] = dispatch_legs(center)
        queued_at = sql_record(center, caller.sid).queued_at
        rolled = (t.started_at - queued_at).total_seconds()
        assert NO_STAFF_AFTER <= rolled <= NO_STAFF_AFTER + 1.5, rolled
        assert t.answered_at is not None
        to_answer = (t.answered_at - t.started_at).total_seconds()
        assert 4 <= to_answer <= 10, to_answer  # a word to the caller, then 4 s of ringing
        assert ROLLING in caller.heard_text()
        assert caller.heard_text().count("All 9 1 1 call-takers are helping") <= 2
        assert not caller.application_error and not leg.application_error
        conn = redis.Redis.from_url(backend.redis_url)
        BurstWorker([Queue(outbox_jobs.queue_name(center.settings), connection=conn)],
                    connection=conn).work(burst=True)
        conn.close()
        [got] = receiver.received  # signed, delivered once, by the outbox
        assert got.signed and got.key == f"transfer-{t.id}"
        doc = got.body
        assert doc == handoff(center, t.id).payload and handoff(center, t.id).delivered_at
        assert errors(doc) == []
        assert doc["agencyComponent"][1]["$id"] == "psap.county.example"
        assert "mode rollover" in doc["additionalDataComponent"][0]["additionalDataByValue"]
        assert kinds(center, caller.sid, "rollover", "rollover-answered") == [
            "rollover", "rollover-answered"]
        with center.services.engine.connect() as conn:  # in the dispatchers' inbox too
            assert t.id in [r.id for r in records.recent(conn, 10, "psap")]
        floor.run(until=NO_STAFF_AFTER + 120)  # the other PSAP hangs up 60 s after answering
        assert caller.status == "completed"
        assert sql_record(center, caller.sid).outcome == "transferred"
    finally:
        receiver.close()
        center.close()


def test_a_busy_other_psap_brings_the_caller_back_at_the_front_of_the_line(settings) -> None:
    center = rollover_center(settings, attempts=1)
    try:
        center.sim.on_dial(PSAP, busy(after=2))
        floor = Floor(center)
        first = center.call([wait(600), hangup()], line=LINE_911)
        later = center.call([wait(600), hangup()], line=LINE_911, caller="+14105550177", at=2)
        floor.run(until=NO_STAFF_AFTER + 12)  # both rolled, both back from a busy line
        for call in (first, later):
            [t] = transfers_of(center, call.sid)
            assert (t.mode, t.state, t.reason) == ("rollover", "failed", "busy")
            assert "requeued" in kinds(center, call.sid)
            assert "you are next for a call-taker" in call.heard_text()
            assert call.status == "in-progress" and not call.application_error
        assert len(dispatch_legs(center)) == 2  # one dial each, however many ticks looked
        queues, now = center.services.queues, center.clock.now().timestamp()
        # each came back ahead of every waiting call: the later caller, back last, is first
        assert queues.position(later.sid, now) == 1 and queues.position(first.sid, now) == 2
        floor.run(until=NO_STAFF_AFTER + 60)  # attempts: 1, so no second dial
        assert len(dispatch_legs(center)) == 2
        floor.login("bob", skills=("line:911",))
        floor.run(until=NO_STAFF_AFTER + 62)
        assert center.services.agents.get("bob").call_id == later.sid
    finally:
        center.close()


def test_a_failed_rollover_is_tried_again_after_retry_after(settings) -> None:
    center = rollover_center(settings, attempts=2, retry_after=30)
    try:
        center.sim.on_dial(PSAP, busy(after=2))
        floor = Floor(center)
        caller = center.call([wait(600), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 100)
        first, second = transfers_of(center, caller.sid)
        assert (first.state, second.state) == ("failed", "failed")
        assert [x["transfer"] for _k, _d, x in events(center, caller.sid, "requeued")] == [
            first.id, second.id]
        gap = (second.started_at - first.ended_at).total_seconds()
        assert 30 <= gap <= 31.5, gap
        assert len(dispatch_legs(center)) == 2 and caller.status == "in-progress"
    finally:
        center.close()


def test_replayed_ticks_and_callbacks_dial_once(settings) -> None:
    center = rollover_center(settings)
    try:
        center.sim.on_dial(PSAP, busy(after=2))
        floor = Floor(center)
        caller = center.call([wait(600), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 1)
        svc, now = center.services, center.clock.now().timestamp()
        assert rollover.sweep(svc, now) == [] and rollover.sweep(svc, now + 1) == []
        floor.run(until=NO_STAFF_AFTER + 10)
        [t] = transfers_of(center, caller.sid)
        busy_form = {"CallSid": caller.sid, "CallStatus": "in-progress",
                     "DialCallStatus": "busy"}
        for _ in range(2):  # Twilio retrying the Dial's action: back in line once, not twice
            assert "<Enqueue" in rollover.result(svc, t.id, busy_form, now + 10)
        assert kinds(center, caller.sid, "requeued") == ["requeued"]
        assert len(dispatch_legs(center)) == 1
    finally:
        center.close()


ENGLISH_HOLD = "All 9 1 1 call-takers are helping other callers."
SPANISH_HOLD = "Todos los operadores del 9 1 1 están atendiendo a otras personas."
SPANISH_OFFER = "Para español, oprima nueve."


def test_a_spanish_311_caller_who_presses_9_waits_and_rolls_over_in_spanish(settings) -> None:
    center = rollover_center(settings)
    try:
        center.sim.on_dial(PSAP, answers(after=4, hangup_after=30))
        floor = Floor(center)
        caller = center.call([press("2"), press("9"), wait(600), hangup()])
        floor.run(until=90)
        heard = caller.heard_text()
        assert "Le estamos comunicando con el 9 1 1." in heard
        assert SPANISH_HOLD in heard and ENGLISH_HOLD not in heard
        assert SPANISH_OFFER not in heard  # already in Spanish: nothing to offer
        assert "Le comunicamos con otro centro del 9 1 1." in heard
        assert enqueued(center, caller.sid) == ("emergency", {"line:911"})  # no lang:es
        [t] = transfers_of(center, caller.sid)
        assert (t.mode, t.origin, t.state) == ("rollover", "no-staff", "connected")
        note = handoff(center, t.id).payload["additionalDataComponent"][0]
        assert "language es" in note["additionalDataByValue"]
        assert sql_record(center, caller.sid).language == "es"
        assert not caller.application_error
    finally:
        center.close()


def test_the_911_line_offers_spanish_once_without_delaying_english_callers(settings) -> None:
    center = rollover_center(settings, no_staff_after=None, max_wait=None, all_busy_after=3600)
    try:
        floor = Floor(center)
        english = center.call([wait(300), hangup()], line=LINE_911)
        spanish = center.call([press("9", after=0.5), wait(300), hangup()], line=LINE_911,
                              caller="+14105550177")
        floor.run(until=120)
        heard = english.heard_text()
        assert heard.startswith(ENGLISH_HOLD)  # the first words: English, no menu before
        assert heard.count(SPANISH_OFFER) == 1 and heard.count(ENGLISH_HOLD) >= 2
        assert sql_record(center, english.sid).language != "es"
        heard = spanish.heard_text()
        assert heard.startswith(ENGLISH_HOLD) and SPANISH_OFFER in heard
        assert SPANISH_HOLD in heard.split(SPANISH_OFFER, 1)[1]
        assert ENGLISH_HOLD not in heard.split(SPANISH_OFFER, 1)[1]
        assert sql_record(center, spanish.sid).language == "es"
        assert kinds(center, spanish.sid, "language") == ["language"]
        queues, now = center.services.queues, center.clock.now().timestamp()
        assert queues.position(english.sid, now) == 1 and queues.position(spanish.sid, now) == 2
        floor.login("bob", skills=("line:911",))
        floor.run(until=130)
        assert center.services.agents.get("bob").call_id == english.sid
        assert not english.application_error and not spanish.application_error
    finally:
        center.close()


def test_the_wallboard_the_reports_and_the_csv_count_rollovers(settings) -> None:
    """A day of its own: one 911 caller rolled over and answered there, one rolled to a busy
    line and back in line, answered here by bob; the figures agree and the audit is clean."""
    start = a_monday()
    center = rollover_center(settings, attempts=1, start=start)
    try:
        floor = Floor(center)
        center.sim.on_dial(PSAP, answers(after=4, hangup_after=30))
        answered_there = center.call([wait(300), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 10)
        center.sim.on_dial(PSAP, busy(after=2))
        back_here = center.call([wait(300), hangup()], line=LINE_911, caller="+14105550177",
                                at=NO_STAFF_AFTER + 11)
        floor.run(until=2 * NO_STAFF_AFTER + 25)
        floor.login("bob", skills=("line:911",), phone=answers(after=3, hangup_after=20))
        floor.run(until=400)
        [there] = transfers_of(center, answered_there.sid)
        [failed] = transfers_of(center, back_here.sid)
        assert (there.state, failed.state, failed.reason) == ("connected", "failed", "busy")
        assert kinds(center, back_here.sid, "bridged") == ["bridged"]
        svc = center.services
        day_start, day_end = reports.day_span(start.date(), svc.settings.timezone)
        found = audit.audit_services(svc, day_start, day_end)
        assert found == [], "\n".join(map(str, found))

        boss = Desk(center.app.test_client(), add_account(svc, roles=("supervisor",)))
        board = boss.get("/wallboard").get_json()
        report = boss.get("/reports/day").get_json()
        assert report["day"] == start.date().isoformat()
        answer = (there.answered_at - there.started_at).total_seconds()
        arrival = (there.answered_at - sql_record(center, answered_there.sid).queued_at)
        expected = {
            "started": 2, "in_progress": 0, "by_reason": {"no-staff": 2},
            "by_center": {"psap": 2}, "answered": 1, "failed": {"busy": 1}, "abandoned": 0,
            "answer_seconds_mean": round(answer, 1), "answer_seconds_max": round(answer, 1),
            "caller_wait_to_answer_seconds_mean": round(arrival.total_seconds(), 1)}
        assert report["rollovers"] == board["rollovers"] == expected
        assert report["classes"]["emergency"]["answered"] == 1  # back_here, by bob
        assert report["classes"]["emergency"]["transfers"] == 1  # answered_there
        rows = list(csv.DictReader(io.StringIO(boss.get(
            f"/reports/rollovers.csv?day={report['day']}").get_data(as_text=True))))
        table = {(r["group"], r["name"]): r["value"] for r in rows}
        assert table[("reason", "no-staff")] == "2" and table[("failed", "busy")] == "1"
        assert table[("total", "answered")] == "1"
        text = boss.client.get("/metrics").get_data(as_text=True)
        assert 'ivr_rollovers_today{reason="no-staff"} 2' in text
        assert "ivr_rollovers_answered_today 1" in text
        page = boss.client.get(f"/console/reports?day={report['day']}").get_data(as_text=True)
        assert 'id="rollovers"' in page and "no-staff: 2" in page and "busy: 1" in page
    finally:
        center.close()


def test_every_call_taker_busy_past_the_threshold_rolls_over(settings) -> None:
    center = rollover_center(settings, no_staff_after=None, max_wait=None, all_busy_after=30)
    try:
        center.sim.on_dial(PSAP, answers(after=3, hangup_after=20))
        floor = Floor(center)
        floor.login("alice", skills=("line:911",), phone=answers(after=2, hangup_after=300))
        talking = center.call([wait(600), hangup()], line=LINE_911)
        floor.run(until=10)
        assert floor.state("alice") == "on_call"
        waiting = center.call([wait(600), hangup()], line=LINE_911, caller="+14105550177",
                              at=11)
        floor.run(until=11 + 30 + 15)
        [t] = transfers_of(center, waiting.sid)
        assert (t.origin, t.state) == ("all-busy", "connected")
        rolled = (t.started_at - sql_record(center, waiting.sid).queued_at).total_seconds()
        assert 30 <= rolled <= 31.5, rolled
        assert transfers_of(center, talking.sid) == []  # the call alice has stays hers
    finally:
        center.close()


def test_a_caller_who_hangs_up_while_the_other_psap_rings_is_abandoned(settings) -> None:
    center = rollover_center(settings)
    try:
        center.sim.on_dial(PSAP, answers(after=25))
        floor = Floor(center)
        caller = center.call([wait(NO_STAFF_AFTER + 10), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 40)
        [t] = transfers_of(center, caller.sid)
        assert (t.state, t.answered_at) == ("abandoned", None)
        assert "abandoned-during-transfer" in kinds(center, caller.sid)
        assert sql_record(center, caller.sid).outcome == "abandoned"
        assert center.services.queues.position(caller.sid, floor.now()) is None
    finally:
        center.close()
