"""Open311 GeoReport v2 through the real app, on SQLite and on PostgreSQL.

Every JSON answer is checked against the Open311 JSON schemas (``shared/reference/open311``) or,
where the reference has none (errors, the POST answer, tokens, discovery), against the spec's
shape written out below. The database is shared by the session: each test has its own time slot.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from ivr.platform.db import make_engine, session_factory, transaction
from ivr.service_requests.service import create_request, get_request, update_status
from ivr.service_requests.service_types import sync_catalogue
from ivr.web import open311

# A copy of the reference schemas (``shared/reference/open311``) travels with the tests, so a
# checkout anywhere validates against them.
SCHEMAS = Path(__file__).parents[2] / "data" / "open311"
BASE = "https://schemas.open311.test/"
KEY = "test-open311-key"
ADDRESS = "3400 GARRISON BLVD, BALTIMORE, MD, 21215"
POTHOLE = {"api_key": KEY, "service_code": "pothole", "address_string": ADDRESS,
           "attribute[position]": "crosswalk"}

ERRORS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"], "additionalProperties": False,
    "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}},
}}
POSTED = {"type": "array", "minItems": 1, "maxItems": 1, "items": {
    "type": "object", "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    "properties": {
        "service_request_id": {"type": "string"}, "token": {"type": "string"},
        "service_notice": {"type": ["string", "null"]}, "account_id": {"type": ["string", "null"]},
    },
}}
TOKENS = {"type": "array", "items": {
    "type": "object", "required": ["token"],
    "properties": {"service_request_id": {"type": ["string", "null"]}, "token": {"type": "string"}},
}}
DISCOVERY = {"type": "object", "required": ["changeset", "contact", "key_service", "endpoints"],
             "properties": {"changeset": {"type": "string", "format": "date-time"},
                            "endpoints": {"type": "array", "minItems": 1, "items": {
                                "type": "object",
                                "required": ["specification", "url", "type", "formats"],
                                "properties": {"url": {"type": "string", "format": "uri"},
                                               "formats": {"type": "array"}}}}}}

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
CHECKER = FormatChecker()


@CHECKER.checks("date-time")
def _date_time(value: object) -> bool:
    """ISO 8601 with an offset, which the spec's timestamps must carry."""
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@CHECKER.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


@pytest.fixture(scope="module")
def registry() -> Registry:
    if not SCHEMAS.is_dir():
        pytest.skip(f"the Open311 reference schemas are not at {SCHEMAS}")
    return Registry().with_resources(
        (BASE + path.name, Resource.from_contents(json.loads(path.read_text("utf-8")),
                                                  default_specification=DRAFT7))
        for path in SCHEMAS.glob("*.json")
    )


@pytest.fixture(scope="module")
def catalogue(backend):  # type: ignore[no-untyped-def]
    """The packaged catalogue in this backend's database, once per module."""
    engine = make_engine(backend.database_url)
    with transaction(session_factory(engine)) as session:
        sync_catalogue(session)
    engine.dispose()


_slots = itertools.count()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A time of this test's own, centuries away from other tests' requests."""
    return Clock(datetime(2230, 3, 1, 14, 0, tzinfo=UTC) + timedelta(days=400 * next(_slots)))


@pytest.fixture
def app(settings, catalogue, clock):  # type: ignore[no-untyped-def]
    from ivr.app import create_app
    from ivr.bootstrap import bootstrap
    from ivr.flows.store import FlowStore

    services = bootstrap(settings, clock=clock, flows=FlowStore())
    app = create_app(services=services, test_config={"TESTING": True, "OPEN311_API_KEYS": KEY})
    if "open311" not in app.blueprints:
        app.register_blueprint(open311.bp)
    yield app
    services.engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def check(registry: Registry):  # type: ignore[no-untyped-def]
    """check(response, schema, status): the JSON body, once valid against `schema`.

    `schema` is a reference file name ("services.json") or a schema written out here.
    """

    def run(response, schema: str | dict[str, Any], status: int = 200) -> Any:  # type: ignore[no-untyped-def]
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        body = response.get_json()
        if isinstance(schema, str):
            schema = {"$ref": BASE + schema}
        Draft7Validator(schema, registry=registry, format_checker=CHECKER).validate(body)
        return body

    return run


def xml(response, status: int = 200) -> ET.Element:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data())


def make(app, at: datetime, **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("service_code", "pothole")
    fields.setdefault("address", ADDRESS)
    if fields["service_code"] == "pothole":
        fields.setdefault("attributes", {"position": "travel-lane"})
    with transaction(app.extensions["ivr"].sessions) as session:
        return create_request(session, at=at, channel="console", **fields)


# -- discovery and services ----------------------------------------------------------------------

def test_discovery_names_this_endpoint_in_both_formats(client, check) -> None:  # type: ignore[no-untyped-def]
    body = check(client.get("/open311/v2/discovery.json"), DISCOVERY)
    assert body["endpoints"][0]["url"] == "https://ivr.example.org/open311/v2"
    root = xml(client.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def test_discovery_on_the_local_default_names_the_port_it_was_asked_on(  # type: ignore[no-untyped-def]
        settings, catalogue, clock) -> None:
    """config.yaml's public_url is http://127.0.0.1:8000; `ivr serve --port 9123` serves on
    another port, and discovery says the one the client reached."""
    import dataclasses

    from ivr.app import create_app
    from ivr.bootstrap import bootstrap
    from ivr.flows.store import FlowStore

    local = dataclasses.replace(settings, public_url="http://127.0.0.1:8000")
    app = create_app(services=bootstrap(local, clock=clock, flows=FlowStore()),
                     test_config={"TESTING": True})
    asked = app.test_client().get("/open311/v2/discovery.json",
                                  base_url="http://127.0.0.1:9123")
    assert asked.get_json()["endpoints"][0]["url"] == "http://127.0.0.1:9123/open311/v2"
    # Asked under another name (a proxy's), the configured URL stands.
    other = app.test_client().get("/open311/v2/discovery.json", base_url="http://ivr.internal")
    assert other.get_json()["endpoints"][0]["url"] == "http://127.0.0.1:8000/open311/v2"


def test_services_list_the_catalogue(client, check) -> None:  # type: ignore[no-untyped-def]
    services = check(client.get("/open311/v2/services.json"), "services.json")
    by_code = {s["service_code"]: s for s in services}
    assert len(by_code) >= 15
    assert by_code["pothole"]["metadata"] is True and by_code["dirty-street"]["metadata"] is False
    assert "pothole" in by_code["pothole"]["keywords"]
    assert by_code["pothole"]["group"] == "Streets and sidewalks"
    root = xml(client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert sorted(codes) == sorted(by_code)
    pothole = root.findall("service")[codes.index("pothole")]
    assert pothole.findtext("metadata") == "true" and pothole.findtext("type") == "realtime"


def test_service_definition_lists_the_questions(client, check) -> None:  # type: ignore[no-untyped-def]
    body = check(client.get("/open311/v2/services/pothole.json"), "service-definition.json")
    position = body["attributes"][0]
    assert (position["code"], position["datatype"], position["required"]) == (
        "position", "singlevaluelist", True)
    assert {"key": "crosswalk", "name": "In a crosswalk"} in position["values"]
    notice = check(client.get("/open311/v2/services/traffic-signal.json"),
                   "service-definition.json")["attributes"][0]
    assert notice["variable"] is False
    root = xml(client.get("/open311/v2/services/pothole.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "pothole"
    keys = [v.findtext("key") for v in root.find("attributes").find("attribute").iter("value")]
    assert "crosswalk" in keys


def test_an_unknown_service_is_404(client, check) -> None:  # type: ignore[no-untyped-def]
    body = check(client.get("/open311/v2/services/no-such.json"), ERRORS, 404)
    assert body[0]["code"] == 404 and "no-such" in body[0]["description"]
    root = xml(client.get("/open311/v2/services/no-such.xml"), 404)
    assert root.tag == "errors" and root.find("error").findtext("code") == "404"


# -- creating requests ---------------------------------------------------------------------------

def test_a_posted_request_can_be_read_back_by_id_and_token(client, check, clock) -> None:  # type: ignore[no-untyped-def]
    posted = check(client.post("/open311/v2/requests.json", data={
        **POTHOLE, "description": "Deep hole", "phone": "410-555-0123", "email": "a@example.org",
        "first_name": "Ana", "last_name": "Diaz", "media_url": "https://example.org/p.jpg",
        "lat": "39.3296", "long": "-76.6830",
    }), POSTED, 201)[0]
    number = posted["service_request_id"]
    assert re.fullmatch(r"\d{2}-\d{8}", number)
    assert "Department of Transportation" in posted["service_notice"]

    found = check(client.get(f"/open311/v2/requests/{number}.json"), "requests.json")
    assert len(found) == 1
    entry = found[0]
    assert entry["service_request_id"] == number and entry["status"] == "open"
    assert entry["service_code"] == "pothole" and entry["service_name"] == "Pothole repair"
    assert (entry["lat"], entry["long"], entry["address"]) == (39.3296, -76.683, ADDRESS)
    assert datetime.fromisoformat(entry["requested_datetime"]) == clock.now
    assert entry["requested_datetime"][-6:] in ("-05:00", "-04:00")  # the center's offset
    assert datetime.fromisoformat(entry["expected_datetime"]) == clock.now + timedelta(days=2)
    text = json.dumps(found)
    assert "555-0123" not in text and "5550123" not in text
    assert "Ana" not in text and "a@example.org" not in text

    tokens = check(client.get(f"/open311/v2/tokens/{posted['token']}.json"), TOKENS)
    assert tokens == [{"service_request_id": number, "token": posted["token"]}]
    root = xml(client.get(f"/open311/v2/requests/{number}.xml"))
    assert root.tag == "service_requests"
    assert root.find("request").findtext("service_request_id") == number
    assert root.find("request").findtext("status_notes") == ""  # present, empty


def test_a_json_body_with_a_multivaluelist(client, check) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/open311/v2/requests.json", json={
        "api_key": KEY, "service_code": "dirty-alley", "lat": 39.29, "long": -76.61,
        "attribute": {"debris": ["bags", "tires"]},
    })
    number = check(response, POSTED, 201)[0]["service_request_id"]
    form = client.post("/open311/v2/requests.xml", data={
        "api_key": KEY, "service_code": "dirty-alley", "address_id": "BAL-1",
        "attribute[debris][]": ["litter", "furniture"],
    })
    root = xml(form, 201)
    assert root.tag == "service_requests" and root.find("request").findtext("service_request_id")
    with transaction(client.application.extensions["ivr"].sessions) as session:
        assert get_request(session, number).attributes == {"debris": ["bags", "tires"]}


@pytest.mark.parametrize("change, status, says", [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"service_code": None}, 400, "service_code is required"),
    ({"service_code": "no-such"}, 404, "no-such"),
    ({"description": "x" * 4001}, 400, "description"),
    ({"address_string": None}, 400, "location is required"),
    ({"address_string": None, "lat": "39.3"}, 400, "long"),
    ({"address_string": None, "lat": "ninety", "long": "-76.6"}, 400, "lat"),
    ({"attribute[position]": None}, 400, "attribute[position]"),
    ({"attribute[position]": "rooftop"}, 400, "'rooftop' is not one of"),
    ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
    ({"phone": "call me"}, 400, "phone"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"media_url": "ftp://example.org/x"}, 400, "media_url"),
])
def test_bad_posts_are_refused_with_the_standard_error(client, check, change, status, says) -> None:  # type: ignore[no-untyped-def]
    data = {**POTHOLE, **change}
    response = client.post("/open311/v2/requests.json",
                           data={k: v for k, v in data.items() if v is not None})
    body = check(response, ERRORS, status)
    assert body[0]["code"] == status and says in body[0]["description"]
    assert check(client.get("/open311/v2/requests.json"), "requests.json") == []


def test_without_configured_keys_nobody_may_post(app, check) -> None:  # type: ignore[no-untyped-def]
    app.config["OPEN311_API_KEYS"] = ""
    check(app.test_client().post("/open311/v2/requests.json", data=POTHOLE), ERRORS, 403)
    app.config["OPEN311_API_KEYS"] = ["other", KEY]
    check(app.test_client().post("/open311/v2/requests.json", data=POTHOLE), POSTED, 201)


def test_errors_in_xml_and_unreadable_bodies(client, check) -> None:  # type: ignore[no-untyped-def]
    root = xml(client.post("/open311/v2/requests.xml", data={**POTHOLE, "api_key": "x"}), 403)
    assert root.tag == "errors"
    assert [(e.findtext("code"), bool(e.findtext("description"))) for e in root] == [("403", True)]
    check(client.post("/open311/v2/requests.json", data="<a/>", content_type="text/plain"),
          ERRORS, 415)
    check(client.post("/open311/v2/requests.json", data="{not json",
                      content_type="application/json"), ERRORS, 400)
    check(client.post("/open311/v2/requests.json", json=[1, 2]), ERRORS, 400)


def test_a_jurisdiction_other_than_ours_is_404(app, client, check) -> None:  # type: ignore[no-untyped-def]
    app.extensions["ivr"].settings.raw["open311"] = {"jurisdiction_id": "baltimorecity.gov"}
    try:
        check(client.get("/open311/v2/services.json?jurisdiction_id=baltimorecity.gov"),
              "services.json")
        check(client.get("/open311/v2/services.json?jurisdiction_id=example.gov"), ERRORS, 404)
        check(client.post("/open311/v2/requests.json",
                          data={**POTHOLE, "jurisdiction_id": "example.gov"}), ERRORS, 404)
    finally:
        app.extensions["ivr"].settings.raw.pop("open311")


# -- reading requests ----------------------------------------------------------------------------

def test_get_requests_filters(app, client, check, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now
    recent = make(app, now - timedelta(days=1))
    alley = make(app, now - timedelta(days=2), service_code="dirty-alley",
                 attributes={"debris": ["bags"]})
    closed = make(app, now - timedelta(days=3))
    old = make(app, now - timedelta(days=120))
    with transaction(app.extensions["ivr"].sessions) as session:
        update_status(session, closed.number, "closed", at=now, notes="Repaired")

    def ids(query: str) -> list[str]:
        body = check(client.get(f"/open311/v2/requests.json{query}"), "requests.json")
        return [r["service_request_id"] for r in body]

    assert ids("") == [recent.number, alley.number, closed.number]  # the last 90 days
    assert ids("?status=open") == [recent.number, alley.number]
    assert ids("?status=open,closed&service_code=pothole") == [recent.number, closed.number]
    assert ids("?service_code=dirty-alley,no-such") == [alley.number]
    old_window = (now - timedelta(days=130)).date().isoformat()
    assert ids(f"?start_date={old_window}") == [old.number]
    end = (now - timedelta(days=2)).isoformat()
    assert ids(f"?end_date={end}") == [alley.number, closed.number]
    # service_request_id overrides every other filter
    assert ids(f"?service_request_id={old.number},{recent.number},99-99999999&status=closed") == [
        recent.number, old.number]
    entry = check(client.get(f"/open311/v2/requests/{closed.number}.json"), "requests.json")[0]
    assert (entry["status"], entry["status_notes"]) == ("closed", "Repaired")
    root = xml(client.get("/open311/v2/requests.xml?status=closed"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [closed.number]
    assert root.find("request").findtext("status_notes") == "Repaired"


def test_an_offset_whose_plus_arrived_as_a_space_is_read(app, client, check, clock) -> None:  # type: ignore[no-untyped-def]
    made = make(app, clock.now - timedelta(hours=1))
    start = (clock.now - timedelta(hours=2)).astimezone(ZoneInfo("Asia/Kolkata"))
    text = start.isoformat()
    assert "+05:30" in text
    # An unencoded '+' in a query string is a space once decoded.
    body = check(client.get(f"/open311/v2/requests.json?start_date={text}"), "requests.json")
    assert [r["service_request_id"] for r in body] == [made.number]


def test_at_most_the_cap_is_returned_newest_first(app, client, check, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(open311, "MAX_RESULTS", 2)
    made = [make(app, clock.now - timedelta(minutes=m)) for m in (3, 2, 1)]
    body = check(client.get("/open311/v2/requests.json"), "requests.json")
    assert [r["service_request_id"] for r in body] == [made[2].number, made[1].number]


@pytest.mark.parametrize("query, says", [
    ("start_date=yesterday", "start_date"),
    ("end_date=2026-13-45", "end_date"),
    ("start_date=2026-03-10T00:00:00Z&end_date=2026-03-01T00:00:00Z", "after end_date"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
    ("start_date=9999-12-31", "out of range"),
    ("end_date=0001-01-01", "out of range"),
    ("status=pending", "status"),
])
def test_bad_queries_are_400(client, check, query, says) -> None:  # type: ignore[no-untyped-def]
    body = check(client.get(f"/open311/v2/requests.json?{query}"), ERRORS, 400)
    assert says in body[0]["description"]


def test_unknown_requests_and_tokens_are_404(client, check) -> None:  # type: ignore[no-untyped-def]
    check(client.get("/open311/v2/requests/99-99999999.json"), ERRORS, 404)
    check(client.get("/open311/v2/tokens/no-such-token.json"), ERRORS, 404)
    assert xml(client.get("/open311/v2/requests/99-99999999.xml"), 404).tag == "errors"


def test_formats_paths_and_methods_outside_the_spec(client, check) -> None:  # type: ignore[no-untyped-def]
    body = check(client.get("/open311/v2/services.csv"), ERRORS, 400)
    assert ".json or .xml" in body[0]["description"]
    check(client.get("/open311/v2/services"), ERRORS, 404)
    check(client.get("/open311/v2/"), ERRORS, 404)
    assert xml(client.get("/open311/v2/nothing/here.xml"), 404).tag == "errors"
    check(client.post("/open311/v2/services.json"), ERRORS, 405)
    check(client.delete("/open311/v2/requests.json"), ERRORS, 405)


def test_a_request_filed_by_phone_reads_back_by_the_standard(app, client, check, clock) -> None:  # type: ignore[no-untyped-def]
    """Its only location is the recording of the address the caller spoke: no address text."""
    with transaction(app.extensions["ivr"].sessions) as session:
        phoned = create_request(session, service_code="pothole", at=clock.now - timedelta(hours=1),
                                attributes={"position": "alley"}, channel="phone",
                                address_audio_url="https://api.twilio.com/rec/RE1")
    entry, = check(client.get(f"/open311/v2/requests/{phoned.number}.json"), "requests.json")
    assert entry["service_request_id"] == phoned.number and entry.get("address") is None


def test_a_start_date_alone_spans_ninety_days_across_a_change_of_clocks() -> None:
    """1 September + 90 days crosses the end of daylight time in New York: the span is 90 days
    of real time, not 90 days and an hour refused as too long."""
    zone = ZoneInfo("America/New_York")
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    start, end = open311.request_window({"start_date": "2026-09-01"}, now, zone)
    assert start == datetime(2026, 9, 1, 4, 0, tzinfo=UTC)
    assert end - start == open311.WINDOW
    start, end = open311.request_window({"end_date": "2026-12-01"}, now, zone)
    assert end - start == open311.WINDOW
