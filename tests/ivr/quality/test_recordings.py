"""Recording status callbacks in any order, twice, late: the record ends completed with its
retention deadline, once; a deleted recording stays deleted; a callback without a usable
recording changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from ivr.calls import calllog
from ivr.calls.models import CallEvent
from ivr.quality import recordings
from ivr.quality.models import Recording


def _call(svc) -> str:  # type: ignore[no-untyped-def]
    sid = "CA" + uuid.uuid4().hex
    with svc.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line="911", caller="+14105550100", dialed="911",
                          at=svc.clock())
    return sid


def _form(rec: str, status: str, duration: str = "-1") -> dict[str, str]:
    return {"RecordingSid": rec, "RecordingStatus": status, "RecordingDuration": duration,
            "RecordingChannels": "2", "ConferenceSid": "CF" + "1" * 32}


def _row(svc, rec: str) -> Recording:  # type: ignore[no-untyped-def]
    with svc.sessions() as session:
        return session.get(Recording, rec)


def test_completed_before_in_progress_and_twice_is_recorded_once(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    call, rec = _call(svc), "RE" + uuid.uuid4().hex
    now = svc.clock()
    recordings.on_status(svc.engine, svc.settings, call, _form(rec, "completed", "61"), now)
    recordings.on_status(svc.engine, svc.settings, call, _form(rec, "completed", "61"), now)
    recordings.on_status(svc.engine, svc.settings, call, _form(rec, "in-progress"), now)
    row = _row(svc, rec)
    assert (row.status, row.duration, row.channels, row.call_sid) == ("completed", 61, 2, call)
    assert row.delete_after == now + timedelta(days=90)
    with svc.sessions() as session:
        kinds = list(session.scalars(select(CallEvent.kind).filter_by(call_sid=call)))
    assert kinds.count("call-recording") == 1


def test_a_deleted_recording_stays_deleted(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    call, rec = _call(svc), "RE" + uuid.uuid4().hex
    recordings.on_status(svc.engine, svc.settings, call, _form(rec, "completed", "5"),
                         svc.clock())
    with svc.engine.begin() as conn:
        conn.execute(update(Recording.__table__).where(Recording.__table__.c.sid == rec)
                     .values(status="deleted"))
    recordings.on_status(svc.engine, svc.settings, call, _form(rec, "completed", "5"),
                         svc.clock())
    assert _row(svc, rec).status == "deleted"


def test_a_callback_without_a_recording_changes_nothing(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    call = _call(svc)
    recordings.on_status(svc.engine, svc.settings, call, _form("", "completed"), svc.clock())
    recordings.on_status(svc.engine, svc.settings, call, _form("RE" + "2" * 32, "paused"),
                         svc.clock())
    with svc.sessions() as session:
        assert list(session.scalars(select(Recording).filter_by(call_sid=call))) == []
