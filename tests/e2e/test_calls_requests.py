"""Residents check and file service requests by phone: the emulator, the real app, real SQL."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callflows.spoken import grouped
from ivr.platform.db import transaction
from ivr.service_requests.links import requests_of_call
from ivr.service_requests.models import ServiceRequest, ServiceType
from ivr.service_requests.service import add_note, create_request, phone_digits, update_status
from ivr.sim import hangup, press, record, say, wait
from ivr.voice import lookups
from tests.e2e.conftest import OPEN_HOURS
from tests.e2e.helpers import enqueued, events
from tests.e2e.helpers import record as sql_record

THEN_HANG_UP = [wait(60), hangup()]
ENGLISH, SPANISH = press("1"), press("2")


def make_request(center, *, note: str | None = None, closed: bool = False) -> str:  # type: ignore[no-untyped-def]
    """A pothole request made a day before the calls, as the console would; its number."""
    at = OPEN_HOURS - timedelta(days=1)
    with transaction(center.services.sessions) as session:
        request = create_request(session, service_code="pothole", at=at,
                                 address="100 N Holliday St", channel="console",
                                 attributes={"position": "travel-lane"},
                                 tz=ZoneInfo(center.settings.timezone))
        if note:
            add_note(session, request, note, at=at, public=True)
        if closed:
            update_status(session, request, "closed", at=at, notes=note)
        return request.number or ""


def set_active(center, code: str, active: bool) -> None:  # type: ignore[no-untyped-def]
    with transaction(center.services.sessions) as session:
        session.get(ServiceType, code).active = active


def linked(center, sid: str) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    with center.services.sessions() as session:
        return [(r.number or "", kinds) for r, kinds in requests_of_call(session, sid)]


def test_status_found_in_english(center) -> None:
    number = make_request(center, note="Crew scheduled for Tuesday.")
    digits = phone_digits(number)
    call = center.call([ENGLISH, press("2"), press(digits + "#"), press("1"), *THEN_HANG_UP])
    center.run()
    text = call.heard_text()
    assert not call.application_error
    assert f"Request {grouped(digits, 'en')} is open." in text
    # made Sunday 22 November, expected within 2 days
    assert "It is expected to be taken care of by Tuesday, November 24." in text
    assert "The latest note says: Crew scheduled for Tuesday." in text
    assert "To check another request" in text
    assert linked(center, call.sid) == [(number, ["asked"])]
    assert [d for _k, d, _x in events(center, call.sid, "app-answer")] == [
        "request_status: answered"]
    assert sql_record(center, call.sid).outcome == "self-service"


def test_status_found_in_spanish_closed_without_expected_date(center) -> None:
    number = make_request(center, note="Reparado.", closed=True)
    digits = phone_digits(number)
    call = center.call([SPANISH, press("2"), press(digits + "#"), press("1"), *THEN_HANG_UP])
    center.run()
    text = call.heard_text()
    assert f"La solicitud {grouped(digits, 'es')} está cerrada." in text
    assert "Se espera atenderla" not in text
    assert "La nota más reciente dice: Reparado." in text
    assert "Request" not in text
    assert linked(center, call.sid) == [(number, ["asked"])]


def test_a_spanish_caller_says_the_number(center) -> None:
    number = make_request(center)
    spoken = " ".join(phone_digits(number))
    call = center.call([SPANISH, press("2"), say(spoken, confidence=0.9), press("1"),
                        *THEN_HANG_UP])
    center.run()
    assert f"La solicitud {grouped(number, 'es')} está abierta." in call.heard_text()
    assert "Se espera atenderla a más tardar el martes 24 de noviembre." in call.heard_text()


@pytest.mark.parametrize("language, not_found", [(ENGLISH, "could not find request"),
                                                  (SPANISH, "no encontramos la solicitud")])
def test_three_unknown_numbers_go_to_a_call_taker_with_the_number(center, language,
                                                                  not_found) -> None:
    make_request(center)
    tries = [step for n in ("2699999901", "2699999902", "2699999903")
             for step in (press(n + "#"), press("1"))]
    call = center.call([language, press("2"), *tries, *THEN_HANG_UP])
    center.run()
    assert not call.application_error
    assert call.heard_text().count(not_found) == 2
    skills = {"line:311"} | ({"lang:es"} if language is SPANISH else set())
    assert enqueued(center, call.sid) == ("general", skills)
    (_k, _d, data), = events(center, call.sid, "enqueue")
    assert data["vars"]["topic"] == "status"
    assert data["vars"]["request_number"] == "2699999903"
    assert linked(center, call.sid) == []


@pytest.mark.parametrize("language, thanks", [
    (ENGLISH, "Your request number is"), (SPANISH, "Su número de solicitud es")])
def test_filing_a_streetlight_request(center, language, thanks) -> None:
    call = center.call([language, press("1"), press("2"), press("1"),  # report, streetlight, file
                        press("1"), press("2"),         # it is out; several lights
                        record(6),                      # the address, spoken
                        press("1"),                     # call me back on this number
                        wait(30)])
    center.run()
    assert not call.application_error
    with center.services.sessions() as session:
        request, = session.scalars(select(ServiceRequest).where(
            ServiceRequest.call_sid == call.sid)).all()
        assert request.service_code == "streetlight-out" and request.channel == "phone"
        assert request.attributes == {"problem": "out", "how-many": "several"}
        assert request.callback_number == "+14105550100"
        assert request.address_audio_url and request.address_audio_url.startswith("http")
        number = request.number or ""
    lang = "es" if language is SPANISH else "en"
    assert call.heard_text().count(f"{thanks} {grouped(number, lang)}.") == 1
    assert linked(center, call.sid) == [(number, ["created"])]
    (_k, detail, _x), = events(center, call.sid, "recording")
    assert detail == request.address_audio_url
    assert sql_record(center, call.sid).outcome == "self-service"


def test_filing_with_another_callback_number(center) -> None:
    call = center.call([ENGLISH, press("1"), press("1"), press("1"), press("3"), record(5),
                        press("2"), press("4105550199#"), press("1"), wait(5)])
    center.run()
    with center.services.sessions() as session:
        request, = session.scalars(select(ServiceRequest).where(
            ServiceRequest.call_sid == call.sid)).all()
    assert request.service_code == "pothole" and request.attributes == {"position": "crosswalk"}
    assert request.callback_number == "+14105550199"


@pytest.mark.parametrize("language", [ENGLISH, SPANISH])
def test_unclear_report_goes_to_a_call_taker_with_what_was_collected(center, language) -> None:
    # Missed trash, file it, "recycling", then keys that mean nothing, three times.
    call = center.call([language, press("1"), press("4"), press("1"), press("2"),
                        press("7"), press("8"), press("7"), *THEN_HANG_UP])
    center.run()
    assert not call.application_error
    skills = {"line:311", "topic:sanitation"} | ({"lang:es"} if language is SPANISH else set())
    assert enqueued(center, call.sid) == ("general", skills)
    (_k, _d, data), = events(center, call.sid, "enqueue")
    assert data["vars"]["service"] == "missed-trash"
    assert data["vars"]["answer_missed"] == "recycling"
    assert "trash_on_time" in data["path"]
    with center.services.sessions() as session:
        assert not session.scalars(select(ServiceRequest).where(
            ServiceRequest.call_sid == call.sid)).all()
    assert linked(center, call.sid) == []


def test_a_request_the_city_refuses_goes_to_a_call_taker(center) -> None:
    # The catalogue no longer offers streetlights by the time the caller files.
    set_active(center, "streetlight-out", False)
    try:
        call = center.call([SPANISH, press("1"), press("2"), press("1"), press("1"), press("1"),
                            record(5), press("1"), *THEN_HANG_UP])
        center.run()
    finally:
        set_active(center, "streetlight-out", True)  # the database outlives this test
    assert not call.application_error
    assert "No pudimos presentar su reporte por teléfono" in call.heard_text()
    assert enqueued(center, call.sid) == ("general", {"line:311", "topic:streets", "lang:es"})
    (_k, _d, data), = events(center, call.sid, "enqueue")
    assert data["vars"]["address_recording"].startswith("http")
    assert data["vars"]["answer_problem"] == "out"
    (_k, detail, _x), = events(center, call.sid, "app-answer")
    assert "refused" in detail and "streetlight-out" in detail


def test_a_lookup_that_raises_still_leads_to_a_call_taker(center, monkeypatch) -> None:
    def broken(session, call, args):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setitem(lookups.LOOKUPS, "request_status", broken)
    call = center.call([ENGLISH, press("2"), press("2600000001#"), press("1"), *THEN_HANG_UP])
    center.run()
    assert not call.application_error
    assert "We cannot look up requests right now" in call.heard_text()
    assert enqueued(center, call.sid) == ("general", {"line:311"})
    assert [d for _k, d, _x in events(center, call.sid, "app-answer")] == [
        "request_status failed: RuntimeError"]
