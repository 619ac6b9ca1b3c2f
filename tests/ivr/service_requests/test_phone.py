"""The app's answers to the flow's lookups and submits, and the links from calls to requests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from callflows.actions import Lookup, Submit
from ivr.calls import calllog
from ivr.platform.db import transaction
from ivr.platform.sql import Base
from ivr.service_requests.fields import InvalidRequest
from ivr.service_requests.links import calls_of_request, link, requests_of_call
from ivr.service_requests.phone import spoken_date, status_result
from ivr.service_requests.service import add_note, create_request, update_status
from ivr.voice import lookups

NY = ZoneInfo("America/New_York")


def a_call(services) -> str:  # type: ignore[no-untyped-def]
    sid = "CA" + uuid.uuid4().hex
    with services.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line="311", caller="+14105550100",
                          dialed="+14435550311", at=services.clock())
    return sid


def a_request(services, **extra):  # type: ignore[no-untyped-def]
    with transaction(services.sessions) as session:
        return create_request(session, service_code="pothole", address="1 Main St",
                              attributes={"position": "alley"}, at=services.clock(), **extra)


@pytest.mark.parametrize("moment, en, es", [
    (datetime(2026, 11, 24, 3, 0, tzinfo=UTC), "Monday, November 23", "lunes 23 de noviembre"),
    (datetime(2027, 1, 1, 17, 0, tzinfo=UTC), "Friday, January 1", "viernes 1 de enero"),
])
def test_dates_are_spoken_in_the_centers_time_and_each_language(moment, en, es) -> None:
    assert spoken_date(moment, NY) == {"en": en, "es": es}


def test_status_words_follow_the_request(services) -> None:  # type: ignore[no-untyped-def]
    request = a_request(services)
    with transaction(services.sessions) as session:
        add_note(session, request.number, "internal only", at=services.clock())
        result = status_result(session.merge(request), NY)
        assert result["status"] == {"en": "open", "es": "abierta"}
        assert result["expected"]["en"].startswith("Wednesday, November 25")
        assert result["note"] == ""  # an internal note is not read to callers
        closed = update_status(session, request.number, "closed", at=services.clock(),
                               notes="Filled.")
        assert status_result(closed, NY) | {"number": ""} == {
            "number": "", "status": {"en": "closed", "es": "cerrada"}, "expected": "",
            "note": "Filled."}


def test_a_lookup_links_the_call_once_and_misses_are_no_result(services) -> None:  # type: ignore[no-untyped-def]
    sid, request = a_call(services), a_request(services)
    digits = request.number.replace("-", "")
    for _ in range(2):
        answered = lookups.answer(services, sid, Lookup("request_status", {"number": digits}))
        assert answered.input.event == "result"
        assert answered.input.result["number"] == request.number
    missing = lookups.answer(services, sid, Lookup("request_status", {"number": "2699999999"}))
    assert missing.input.event == "no-result"
    with services.sessions() as session:
        assert [(r.number, k) for r, k in requests_of_call(session, sid)] == [
            (request.number, ["asked"])]
        assert [c["kind"] for c in calls_of_request(session, request.id)] == ["asked"]


def test_unknown_names_and_the_wrong_kind_are_app_errors(services) -> None:  # type: ignore[no-untyped-def]
    sid = a_call(services)
    for action in (Lookup("weather", {}), Lookup("service_request", {"service": "pothole"}),
                   Submit("request_status", {"number": "1"})):
        answered = lookups.answer(services, sid, action)
        assert answered.input.event == "app-error" and "no " in answered.detail


def test_a_refused_or_failing_handler_is_an_app_error(services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sid = a_call(services)
    refused = lookups.answer(services, sid, Submit("service_request", {
        "service": "pothole", "address_recording": "https://rec/1"}))
    assert refused.input.event == "app-error" and "attribute[position]" in refused.detail

    def broken(session, call, args):  # type: ignore[no-untyped-def]
        raise RuntimeError("database on fire")

    monkeypatch.setitem(lookups.LOOKUPS, "request_status", broken)
    failed = lookups.answer(services, sid, Lookup("request_status", {"number": "1"}))
    assert failed.input.event == "app-error" and failed.detail.endswith("RuntimeError")


def test_filing_makes_a_phone_request_linked_to_the_call(services) -> None:  # type: ignore[no-untyped-def]
    sid = a_call(services)
    answered = lookups.answer(services, sid, Submit("service_request", {
        "service": "streetlight-out", "address_recording": "https://rec/addr",
        "callback": "4105550199", "attribute:problem": "out", "attribute:how-many": "one",
        "attribute:position": ""}))
    assert answered.input.event == "result", answered.detail
    number = answered.input.result["number"]
    assert answered.input.result["digits"] == number.replace("-", "")
    with services.sessions() as session:
        (request, kinds), = requests_of_call(session, sid)
        assert kinds == ["created"] and request.number == number
        assert request.callback_number == "+14105550199" and request.call_sid == sid
        assert request.address is None and request.address_audio_url == "https://rec/addr"


def test_links_are_idempotent_and_checked(services) -> None:  # type: ignore[no-untyped-def]
    sid, request = a_call(services), a_request(services)
    later = services.clock() + timedelta(minutes=5)
    with transaction(services.sessions) as session:
        mine = session.merge(request)
        link(session, sid, mine, "updated", at=services.clock(), by="ana")
        link(session, sid, mine, "updated", at=later, by="bob")
        with pytest.raises(ValueError):
            link(session, sid, mine, "liked", at=later)
    with services.sessions() as session:
        assert [(c["kind"], c["by"]) for c in calls_of_request(session, request.id)] == [
            ("updated", "ana")]


def test_a_phone_request_needs_a_usable_recording(services) -> None:  # type: ignore[no-untyped-def]
    with transaction(services.sessions) as session, pytest.raises(InvalidRequest) as refused:
        create_request(session, service_code="pothole", at=services.clock(),
                       attributes={"position": "alley"}, address_audio_url="ftp://x/y")
    assert refused.value.field == "address_audio_url"


def test_the_migrations_make_the_request_tables_as_the_models_say(backend) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(backend.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    about = [d for d in diff if "service_request" in repr(d) or "call_request_links" in repr(d)]
    assert about == []


def test_inside_an_open_transaction_a_lookup_uses_a_savepoint(services) -> None:  # type: ignore[no-untyped-def]
    """The path of a webhook that already holds a transaction (a failed transfer's answer)."""
    sid, request = a_call(services), a_request(services)
    with services.engine.begin() as conn:
        calllog.add_event(conn, sid, services.clock(), "dial-result", "busy")
        found = lookups.answer(services, sid, Lookup("request_status",
                                                     {"number": request.number}), conn)
        refused = lookups.answer(services, sid, Submit("service_request", {"service": "x"}),
                                 conn)
        assert found.input.event == "result" and refused.input.event == "app-error"
    with services.sessions() as session:
        assert [k for _r, k in requests_of_call(session, sid)] == [["asked"]]
