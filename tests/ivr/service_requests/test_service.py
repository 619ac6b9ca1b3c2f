"""Service requests in SQL: the catalogue, numbering, lookups, status and history.

Runs on SQLite and on PostgreSQL (the `backend` fixture). The database is shared by the whole
session, so each test works in a time slot and with phone numbers of its own.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.calls.models import Call
from ivr.platform.db import make_engine, session_factory, transaction
from ivr.service_requests.catalogue import (
    Attribute,
    CatalogueError,
    Choice,
    load_catalogue,
    parse_catalogue,
)
from ivr.service_requests.fields import (
    InvalidRequest,
    RequestNotFound,
    UnknownService,
    validate_answers,
)
from ivr.service_requests.models import ServiceRequest, ServiceType, utc
from ivr.service_requests.service import (
    add_note,
    create_request,
    find_by_digits,
    get_request,
    phone_digits,
    requests_for_caller,
    search_requests,
    service_notice,
    update_status,
)
from ivr.service_requests.service_types import get_service, list_services, sync_catalogue

_slots = itertools.count()
ADDRESS = "3400 GARRISON BLVD, BALTIMORE, MD, 21215"


@pytest.fixture
def slot() -> int:
    return next(_slots)


@pytest.fixture
def t0(slot: int) -> datetime:
    """A moment no other test of this session uses (numbers' years come from it too)."""
    return datetime(2031, 1, 10, 15, 0, tzinfo=UTC) + timedelta(days=400 * slot)


@pytest.fixture
def phone(slot: int) -> str:
    return f"+1410555{slot:04d}"


@pytest.fixture(scope="module")
def sessions(backend):  # type: ignore[no-untyped-def]
    engine = make_engine(backend.database_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        sync_catalogue(session)
    yield factory
    engine.dispose()


def make(sessions, at: datetime, **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("service_code", "pothole")
    fields.setdefault("address", ADDRESS)
    if fields["service_code"] == "pothole":
        fields.setdefault("attributes", {"position": "travel-lane"})
    with transaction(sessions) as session:
        return create_request(session, at=at, **fields)


# -- the catalogue -------------------------------------------------------------------------------

def test_packaged_catalogue_holds_the_common_baltimore_types() -> None:
    specs = load_catalogue()
    codes = {s.code for s in specs}
    assert len(specs) >= 15
    assert {"pothole", "streetlight-out", "dirty-alley", "bulk-trash", "abandoned-vehicle",
            "water-leak", "missed-trash", "illegal-dumping", "rats", "traffic-signal",
            "sewer-backup", "parking-complaint"} <= codes
    for spec in specs:
        assert spec.agency and spec.keywords and spec.expected_days is not None, spec.code
        for attribute in spec.attributes:
            if attribute.datatype.endswith("valuelist"):
                assert attribute.values, (spec.code, attribute.code)
    pothole = next(s for s in specs if s.code == "pothole")
    assert pothole.external_code == "TRM-Pothole Repair" and pothole.metadata


@pytest.mark.parametrize("text, message", [
    ("services: [{name: X}]", "'code' is required"),
    ("services: [{code: a, name: A}, {code: a, name: B}]", "appears twice"),
    ("services: [{code: a, name: A, attributes: [{code: q, datatype: blob}]}]", "'datatype'"),
    ("services: [{code: a, name: A, attributes: [{code: q, datatype: singlevaluelist}]}]",
     "needs 'values'"),
    ("services: [{code: a, name: A, attributes: [{code: q, datatype: singlevaluelist, "
     "values: {yes: Yes}}]}]", "quote yes/no"),
    ("services: [{code: a, name: A, expected_days: soon}]", "expected_days"),
    ("services: [{code: 'a b', name: A}]", "must be letters"),
    ("nothing: here", "'services' list"),
    ("services: [", "not valid YAML"),
])
def test_catalogue_mistakes_name_the_service_and_field(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(text, "test.yaml")


def test_sync_catalogue_is_an_idempotent_upsert(sessions) -> None:  # type: ignore[no-untyped-def]
    code = "t-" + uuid.uuid4().hex[:8]
    spec = replace(load_catalogue()[0], code=code, name="First name")
    with transaction(sessions) as session:
        before = session.scalar(select(func.count()).select_from(ServiceType))
        assert sync_catalogue(session, [spec]) == 1
        sync_catalogue(session, [spec])
        assert session.scalar(select(func.count()).select_from(ServiceType)) == before + 1
        sync_catalogue(session, [replace(spec, name="Renamed")])
        assert get_service(session, code).name == "Renamed"
        assert code in {s.code for s in list_services(session)}


# -- answers to questions -----------------------------------------------------------------------

QUESTIONS = (
    Attribute("kind", "singlevaluelist", True, "What kind?", 1,
              (Choice("a", "A"), Choice("b", "B"))),
    Attribute("many", "multivaluelist", False, "Which?", 2, (Choice("x", "X"), Choice("y", "Y"))),
    Attribute("count", "number", False, "How many?", 3),
    Attribute("when", "datetime", False, "When?", 4),
    Attribute("note", "string", False, "Note", 5),
    Attribute("notice", "string", False, "Read this", 6, variable=False),
)


def test_answers_are_cleaned_by_datatype() -> None:
    clean = validate_answers(QUESTIONS, {"kind": ["a"], "many": ["y", "x", "y"], "count": "3",
                                         "when": "2026-03-01T10:00:00Z", "note": "  hi "})
    assert clean == {"kind": "a", "many": ["y", "x"], "count": 3,
                     "when": "2026-03-01T10:00:00+00:00", "note": "hi"}


@pytest.mark.parametrize("answers, message", [
    ({}, "required (What kind?)"),
    ({"kind": "c"}, "'c' is not one of a, b"),
    ({"kind": ["a", "b"]}, "takes a single value"),
    ({"kind": "a", "many": ["x", "z"]}, "'z' is not one of x, y"),
    ({"kind": "a", "count": "lots"}, "not a number"),
    ({"kind": "a", "count": "nan"}, "not a number"),
    ({"kind": "a", "when": "yesterday"}, "ISO 8601"),
    ({"kind": "a", "note": "n" * 256}, "at most 255"),
    ({"kind": "a", "notice": "x"}, "not a question"),
    ({"kind": "a", "other": "x"}, "not a question"),
])
def test_bad_answers_are_refused_with_the_question(answers, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRequest, match=re.escape(message)) as caught:
        validate_answers(QUESTIONS, answers)
    assert caught.value.field.startswith("attribute[")


# -- making requests -----------------------------------------------------------------------------

def test_a_phone_request_is_numbered_dated_and_recorded(sessions, t0, phone) -> None:  # type: ignore[no-untyped-def]
    sid = "CA" + uuid.uuid4().hex
    with transaction(sessions) as session:
        session.add(Call(sid=sid, line="311", caller=phone, started_at=t0))
    made = make(sessions, t0, callback_number=phone[2:], call_sid=sid, channel="phone",
                description="Deep hole by the bus stop", first_name="Ana", author="flow:311",
                tz=ZoneInfo("America/New_York"))
    assert re.fullmatch(r"\d{2}-\d{8}", made.number)
    assert made.number == f"{t0.year % 100:02d}-{made.id:08d}"
    assert made.callback_number == phone  # E.164 from a national number
    assert made.status == "open" and made.agency == "Department of Transportation"
    assert made.service.name == "Pothole repair"  # usable once its transaction is over
    with transaction(sessions) as session:
        found = get_request(session, made.number)
        assert found.call_sid == sid and found.attributes == {"position": "travel-lane"}
        assert utc(found.expected_at) == t0 + timedelta(days=2)
        assert [(n.kind, n.status, n.author) for n in found.notes] == [
            ("created", "open", "flow:311")]
        assert "expects to address this by" in service_notice(found)


def test_the_year_in_the_number_is_the_centers(sessions, slot) -> None:  # type: ignore[no-untyped-def]
    # 02:00 UTC on 1 January is still 31 December in Baltimore.
    new_year = datetime(5001 + slot, 1, 1, 2, 0, tzinfo=UTC)
    made = make(sessions, new_year, tz=ZoneInfo("America/New_York"))
    assert made.number.startswith(f"{(5000 + slot) % 100:02d}-")


def test_a_caller_keys_the_number_as_digits(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    made = make(sessions, t0)
    digits = phone_digits(made.number)
    assert digits.isdigit() and len(digits) == 10
    with transaction(sessions) as session:
        assert find_by_digits(session, digits).id == made.id
        assert find_by_digits(session, digits + "#").id == made.id
        assert get_request(session, digits).id == made.id
        assert find_by_digits(session, "12") is None
        assert find_by_digits(session, "9999999999") is None
        assert get_request(session, "99-99999999") is None


@pytest.mark.parametrize("fields, field", [
    ({"service_code": "no-such-service"}, "service_code"),
    ({"address": None}, "location"),
    ({"address": None, "lat": 39.3}, "long"),
    ({"address": None, "lat": 95, "long": -76.6}, "lat"),
    ({"address": None, "lat": "north", "long": -76.6}, "lat"),
    ({"description": "x" * 4001}, "description"),
    ({"callback_number": "not a phone"}, "callback_number"),
    ({"email": "nobody-at-example"}, "email"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"channel": "fax"}, "channel"),
    ({"attributes": {}}, "attribute[position]"),
])
def test_bad_requests_are_refused_and_nothing_is_written(sessions, t0, fields, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((InvalidRequest, UnknownService)) as caught:
        make(sessions, t0, **fields)
    assert caught.value.field == field
    with transaction(sessions) as session:
        assert search_requests(session, start=t0, end=t0) == []


def test_a_location_may_be_a_position_or_an_address_id(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    by_position = make(sessions, t0, address=None, lat="39.2904", long="-76.6122")
    by_id = make(sessions, t0, address=None, address_id="BAL-000123")
    assert (by_position.lat, by_position.long) == (39.2904, -76.6122)
    assert by_id.address_id == "BAL-000123"


def test_the_callback_number_is_never_logged_in_plain(sessions, t0, phone, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="ivr.service_requests"):
        made = make(sessions, t0, callback_number=phone)
    assert made.number in caplog.text
    assert phone not in caplog.text and phone[2:] not in caplog.text


def test_numbers_stay_unique_under_concurrent_creation(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(4):
                made = make(sessions, t0)
                with lock:
                    numbers.append(made.number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == 24 and len(set(numbers)) == 24


# -- finding and changing requests ---------------------------------------------------------------

def test_requests_for_caller_by_callback_number_or_calling_number(sessions, t0, phone) -> None:  # type: ignore[no-untyped-def]
    sid = "CA" + uuid.uuid4().hex
    with transaction(sessions) as session:
        session.add(Call(sid=sid, line="311", caller=phone, started_at=t0))
    first = make(sessions, t0, callback_number=f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}")
    second = make(sessions, t0 + timedelta(hours=1), call_sid=sid)  # no callback number given
    make(sessions, t0, callback_number="+12025550100")  # someone else
    with transaction(sessions) as session:
        mine = requests_for_caller(session, phone)
        assert [r.number for r in mine] == [second.number, first.number]
        update_status(session, first.number, "closed", at=t0 + timedelta(hours=2))
        assert [r.number for r in requests_for_caller(session, phone, statuses=["open"])] == [
            second.number]
        assert requests_for_caller(session, "anonymous") == []
        assert requests_for_caller(session, "") == []


def test_status_changes_and_notes_build_the_history(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    made = make(sessions, t0)
    later = t0 + timedelta(days=1)
    with transaction(sessions) as session:
        add_note(session, made.number, "crew assigned", at=later, author="agent:17")
        add_note(session, made.number, "crew on site today", at=later, public=True)
        update_status(session, made.number, "closed", at=later + timedelta(hours=3),
                      notes="Filled with hot asphalt", author="agent:17")
    with transaction(sessions) as session:
        found = get_request(session, made.number)
        assert found.status == "closed" and found.status_notes == "Filled with hot asphalt"
        assert found.closed_at is not None
        assert [(n.kind, n.public) for n in found.notes] == [
            ("created", False), ("note", False), ("note", True), ("status", True)]
        assert "has your request" in service_notice(found)
        update_status(session, found, "open", at=later + timedelta(days=1), notes="Reopened")
        assert found.status == "open" and found.closed_at is None


def test_changing_an_unknown_request_or_to_an_unknown_status_fails(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    made = make(sessions, t0)
    with transaction(sessions) as session:
        with pytest.raises(RequestNotFound):
            update_status(session, "99-99999999", "closed", at=t0)
        with pytest.raises(RequestNotFound):
            add_note(session, "99-99999999", "x", at=t0)
        with pytest.raises(InvalidRequest):
            update_status(session, made.number, "resolved", at=t0)
        with pytest.raises(InvalidRequest):
            add_note(session, made.number, "   ", at=t0)


def test_search_filters_combine(sessions, t0) -> None:  # type: ignore[no-untyped-def]
    pothole = make(sessions, t0)
    alley = make(sessions, t0 + timedelta(days=1), service_code="dirty-alley",
                 attributes={"debris": ["bags", "tires"]})
    old = make(sessions, t0 - timedelta(days=30))
    with transaction(sessions) as session:
        update_status(session, old.number, "closed", at=t0)

        def numbers(**filters) -> list[str]:  # type: ignore[no-untyped-def]
            return [r.number for r in search_requests(session, **filters)]

        window = {"start": t0 - timedelta(days=60), "end": t0 + timedelta(days=2)}
        assert numbers(**window) == [alley.number, pothole.number, old.number]
        assert numbers(**window, statuses=["open"]) == [alley.number, pothole.number]
        assert numbers(**window, service_codes=["dirty-alley"]) == [alley.number]
        assert numbers(start=t0, end=t0) == [pothole.number]
        assert numbers(numbers=[old.number, pothole.number]) == [pothole.number, old.number]
        assert numbers(**window, limit=1) == [alley.number]
        assert isinstance(search_requests(session, numbers=[alley.number])[0], ServiceRequest)
