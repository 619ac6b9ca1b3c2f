"""Calls recorded through Twilio (issue 19, item 3): the conference of a call a call-taker
takes is recorded from its start; the recording status callback reaches the app; a supervisor
plays it through the app (Twilio's URL never reaches the page), each play recorded; a
call-taker is refused; after the retention period it is deleted at Twilio and here.

Times are virtual seconds since the start of the test (see test_connect.py)."""

from __future__ import annotations

import dataclasses
import io
import wave
from datetime import timedelta

from sqlalchemy import select

from ivr.quality import recordings
from ivr.quality.models import Recording, RecordingPlay
from ivr.sim import answers, hangup, press, wait
from tests.e2e.conftest import Center
from tests.e2e.floor import Floor
from tests.e2e.helpers import events
from tests.ivr.console_support import Desk, add_account

IN_LINE_AT = 42
RETENTION_DAYS = 0.01  # 864 s, so the test can live through it on the virtual clock


def _center(settings, lines=("311", "911")) -> Center:  # type: ignore[no-untyped-def]
    raw = {**settings.raw, "recording": {"lines": list(lines), "channels": 2,
                                         "retention_days": RETENTION_DAYS}}
    return Center(dataclasses.replace(settings, raw=raw))


def _rows(center, model, **where):  # type: ignore[no-untyped-def]
    with center.services.sessions() as session:
        query = select(model).filter_by(**where)
        return list(session.scalars(query))


def test_a_call_is_recorded_played_by_a_supervisor_refused_to_a_call_taker_then_deleted(
        settings) -> None:  # type: ignore[no-untyped-def]
    center = _center(settings)
    try:
        floor = Floor(center)
        floor.login("alice", phone=answers(after=3, hangup_after=60))
        call = center.call([press("1"), press("0"), wait(900), hangup()])
        floor.run(until=IN_LINE_AT + 90)
        assert call.status == "completed" and not call.application_error

        # started and completed at Twilio, and known here
        [at_twilio] = center.sim.recordings.by_sid.values()
        conference = center.sim.conferences.by_sid[at_twilio.conference_sid]
        assert conference.friendly_name == f"call-{call.sid}"
        assert [c["RecordingStatus"] for c in at_twilio.callbacks] == ["in-progress",
                                                                       "completed"]
        [row] = _rows(center, Recording, call_sid=call.sid)
        assert row.sid == at_twilio.sid and row.status == "completed" and row.channels == 2
        assert 55 <= row.duration <= 62
        assert row.delete_after is not None
        assert [d for _k, d, _ in events(center, call.sid, "call-recording")] == [row.sid]

        # played through the app by a supervisor: the review page names only the app's URL
        svc = center.services
        boss = Desk(center.app.test_client(), add_account(svc, roles=("supervisor",)))
        taker = Desk(center.app.test_client(), add_account(svc, roles=("call-taker",)))
        page = boss.client.get(f"/console/quality/calls/{call.sid}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f'src="/api/v1/recordings/{row.sid}/media"' in html
        assert "twilio.com" not in html and center.settings.api_base not in html
        media = boss.get(f"/recordings/{row.sid}/media")
        assert media.status_code == 200 and media.mimetype == "audio/x-wav"
        with wave.open(io.BytesIO(media.get_data())) as w:
            assert w.getnchannels() == 2
        assert "twilio" not in " ".join(f"{k}: {v}" for k, v in media.headers.items()).lower()

        # refused to a call-taker (and to nobody signed in), and only the play is recorded
        assert taker.get(f"/recordings/{row.sid}/media").status_code == 403
        assert taker.client.get(f"/console/quality/calls/{call.sid}").status_code == 403
        assert center.app.test_client().get(
            f"/api/v1/recordings/{row.sid}/media").status_code == 401
        assert [p.actor for p in _rows(center, RecordingPlay, recording_sid=row.sid)] == [
            boss.login]

        # the review form and the API refuse a write without the session's CSRF token
        scores = {"greeting": "5", "location": "5", "callback": "5", "protocol": "5",
                  "courtesy": "5"}
        forged = boss.client.post(f"/console/quality/calls/{call.sid}",
                                  data={f"q-{k}": v for k, v in scores.items()})
        assert forged.status_code == 403
        assert boss.post("/quality/reviews", {"call": call.sid, "scores": scores},
                         token="").status_code == 403
        # the form: a score out of range is said on the page; then saved once
        form = {f"q-{k}": v for k, v in scores.items()} | {"csrf_token": boss.token}
        wrong = boss.client.post(f"/console/quality/calls/{call.sid}",
                                 data={**form, "q-greeting": "9"})
        assert wrong.status_code == 400
        assert "needs a score from 0 to 5" in wrong.get_data(as_text=True)
        saved = boss.client.post(f"/console/quality/calls/{call.sid}", data=form)
        assert saved.status_code == 302 and "/console/quality?day=" in saved.location
        again = boss.client.post(f"/console/quality/calls/{call.sid}", data=form)
        assert again.status_code == 409
        sample = boss.get(f"/quality?day={center.clock.now().date().isoformat()}").get_json()
        [pick] = [p for p in sample["picks"] if p["call"] == call.sid]
        assert pick["reviewed"] and pick["recording"] == row.sid

        # not deleted before its retention period ends ...
        client = svc.telephony.client
        assert recordings.purge(svc.engine, client, svc.settings.center,
                                svc.clock()).deleted == []
        assert row.sid in center.sim.recordings.by_sid
        # ... deleted at Twilio and here once it has (the virtual clock runs on)
        floor.run(until=IN_LINE_AT + 90 + RETENTION_DAYS * 86400 + 5)
        done = recordings.purge(svc.engine, client, svc.settings.center, svc.clock())
        assert done.deleted == [row.sid] and done.failed == []
        assert row.sid not in center.sim.recordings.by_sid
        assert row.sid in center.sim.recordings.deleted
        [gone] = _rows(center, Recording, sid=row.sid)
        assert gone.status == "deleted" and gone.deleted_at is not None
        refused = boss.get(f"/recordings/{row.sid}/media")
        assert refused.status_code == 404
        assert "deleted" in refused.get_json()["error"]["message"]
        # a second purge has nothing left to do
        assert recordings.purge(svc.engine, client, svc.settings.center,
                                svc.clock()).deleted == []
        # one Twilio no longer has (deleted in its console, say) is marked deleted here too
        lost = "RE" + "7" * 32
        recordings.on_status(svc.engine, svc.settings, call.sid, {
            "RecordingSid": lost, "RecordingStatus": "completed", "RecordingDuration": "9",
            "RecordingChannels": "2"}, svc.clock() - timedelta(days=1))
        done = recordings.purge(svc.engine, client, svc.settings.center, svc.clock())
        assert done.deleted == [lost] and done.failed == []
    finally:
        center.close()


def test_a_line_not_listed_is_not_recorded(settings) -> None:  # type: ignore[no-untyped-def]
    center = _center(settings, lines=("911",))
    try:
        floor = Floor(center)
        floor.login("alice", phone=answers(after=3, hangup_after=30))
        call = center.call([press("1"), press("0"), wait(900), hangup()])
        floor.run(until=IN_LINE_AT + 60)
        assert call.status == "completed"
        assert not center.sim.recordings.by_sid
        assert _rows(center, Recording, call_sid=call.sid) == []
    finally:
        center.close()


def test_recordings_whose_callbacks_were_lost_are_deleted_from_twilios_list(settings) -> None:  # type: ignore[no-untyped-def]
    """Twilio is the truth: a recording the app never heard of, or never heard completed,
    is still deleted at Twilio once older than the retention period."""
    center = _center(settings)
    try:
        floor = Floor(center)
        floor.login("alice", phone=answers(after=3, hangup_after=30))
        first = center.call([press("1"), press("0"), wait(900), hangup()])
        second = center.call([press("1"), press("0"), wait(900), hangup()],
                             caller="+14105550101", at=100)
        floor.run(until=250)
        assert first.status == second.status == "completed"
        [unknown] = _rows(center, Recording, call_sid=first.sid)
        [stuck] = _rows(center, Recording, call_sid=second.sid)
        table = Recording.__table__
        svc = center.services
        with svc.engine.begin() as conn:  # as if their callbacks had been lost
            conn.execute(table.delete().where(table.c.sid == unknown.sid))
            conn.execute(table.update().where(table.c.sid == stuck.sid).values(
                status="in-progress", delete_after=None, completed_at=None))
        client = svc.telephony.client
        early = recordings.purge(svc.engine, client, svc.settings.center, svc.clock(),
                                 RETENTION_DAYS)
        assert early.deleted == [] and len(center.sim.recordings.by_sid) == 2
        floor.run(until=250 + RETENTION_DAYS * 86400)
        done = recordings.purge(svc.engine, client, svc.settings.center, svc.clock(),
                                RETENTION_DAYS)
        assert sorted(done.deleted) == sorted([unknown.sid, stuck.sid]) and not done.failed
        assert not center.sim.recordings.by_sid
        [gone] = _rows(center, Recording, sid=stuck.sid)
        assert gone.status == "deleted"
    finally:
        center.close()
