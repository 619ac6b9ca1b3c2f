"""New service requests reach a city's own Open311 server: written to the outbox in the
transaction that makes them, posted as the standard form with the city's api_key, retried until
the server answers 2xx, once per request."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from ivr.app import create_app
from ivr.bootstrap import bootstrap
from ivr.flows.store import FlowStore
from ivr.platform import outbox
from ivr.platform.outbox import OutboxMessage

API_KEY = "our-own-open311-key"
CITY_KEY_ENV = "IVR_TEST_CITY_OPEN311_KEY"
CITY_KEY = "city-key-" + uuid.uuid4().hex


class CityServer:
    """A city's Open311 server: answers 201 with its own id, after failing `fail_first` times
    (503); acts once per Idempotency-Key, as a careful server would."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.posts: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.acted: dict[str, dict[str, list[str]]] = {}
        city = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                form = parse_qs(body)
                city.posts.append((self.path, form, dict(self.headers.items())))
                if city.fail_first > 0:
                    city.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                key = self.headers.get(outbox.KEY, "")
                city.acted.setdefault(key, form)
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'[{"service_request_id": "CITY-1"}]')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/open311/v2"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def city() -> Iterator[CityServer]:
    server = CityServer(fail_first=2)
    yield server
    server.close()


@pytest.fixture
def services(settings, city: CityServer):  # type: ignore[no-untyped-def]
    raw = {**settings.raw, "open311": {"forward": {"url": city.url, "key_env": CITY_KEY_ENV}}}
    svc = bootstrap(dataclasses.replace(settings, raw=raw), flows=FlowStore())
    yield svc
    svc.engine.dispose()


def _messages(services, number: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.subject == number, OutboxMessage.kind == outbox.OPEN311_FORWARD)))


def _deliver(services, message_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Attempts until delivered (no waiting: the backoff is zero)."""
    results = []
    for _ in range(5):
        result = outbox.attempt(services.engine, message_id, lease=30, steps=(0.0,),
                                env={CITY_KEY_ENV: CITY_KEY})
        results.append(result)
        if result == "delivered":
            break
    return results


def test_a_request_made_over_our_api_reaches_the_city_once(services, city) -> None:  # type: ignore[no-untyped-def]
    app = create_app(services=services, test_config={"OPEN311_API_KEYS": API_KEY})
    answer = app.test_client().post("/open311/v2/requests.json", data={
        "api_key": API_KEY, "service_code": "streetlight-out", "address_string": "3001 Harford Rd",
        "description": "Dark since Tuesday", "attribute[problem]": "out",
        "attribute[how-many]": "several", "phone": "410-555-0142"})
    assert answer.status_code == 201, answer.get_json()
    number = answer.get_json()[0]["service_request_id"]
    [message] = _messages(services, number)
    assert message.destination == city.url + "/requests.json"

    assert _deliver(services, message.id) == ["retry", "retry", "delivered"]
    assert len(city.posts) == 3
    path, form, headers = city.posts[-1]
    assert path == "/open311/v2/requests.json"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["api_key"] == [CITY_KEY]
    assert form["service_code"] == ["BGE-StLight(s) Out"]  # the city's code for the service
    assert form["address_string"] == ["3001 Harford Rd"]
    assert form["attribute[how-many]"] == ["several"]
    assert form["phone"] == ["+14105550142"]
    assert list(city.acted) == [f"open311-forward:{number}"]
    # delivered: nothing more is sent, whoever tries
    assert outbox.attempt(services.engine, message.id, lease=30, steps=(0.0,),
                          env={CITY_KEY_ENV: CITY_KEY}) == "skipped"
    assert len(city.posts) == 3


def test_without_the_citys_key_nothing_is_posted_and_the_message_waits(  # type: ignore[no-untyped-def]
        services, city) -> None:
    from ivr.platform.db import transaction
    from ivr.service_requests.forwarding import forward_of
    from ivr.service_requests.service import create_request

    with transaction(services.sessions) as session:
        made = create_request(session, service_code="pothole", at=datetime.now(UTC),
                              address="400 E Fayette St", attributes={"position": "travel-lane",
                                                                       "size": "large"},
                              channel="console", forward=forward_of(services.settings))
        number = made.number
    [message] = _messages(services, number)
    assert outbox.attempt(services.engine, message.id, lease=30, steps=(0.0,), env={}) == "retry"
    assert city.posts == []
    with services.engine.connect() as conn:
        kept = outbox.get(conn, message.id)
    assert kept is not None and kept.delivered_at is None
    assert CITY_KEY_ENV in (kept.last_error or "")


def test_nothing_is_forwarded_when_no_city_server_is_configured(settings) -> None:  # type: ignore[no-untyped-def]
    from ivr.platform.db import transaction
    from ivr.service_requests.forwarding import forward_of
    from ivr.service_requests.service import create_request

    svc = bootstrap(settings, flows=FlowStore())
    try:
        assert forward_of(svc.settings) is None
        with transaction(svc.sessions) as session:
            made = create_request(session, service_code="pothole", at=datetime.now(UTC),
                                  address="1 N Calvert St", attributes={
                                      "position": "travel-lane", "size": "large"},
                                  forward=forward_of(svc.settings))
        assert _messages(svc, made.number) == []
    finally:
        svc.engine.dispose()


def test_a_request_filed_by_phone_is_forwarded_too(services) -> None:  # type: ignore[no-untyped-def]
    from callflows.actions import Submit
    from ivr.calls import calllog
    from ivr.voice import lookups

    sid = "CA" + uuid.uuid4().hex
    with services.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line="311", caller="+14105550199",
                          dialed="+14435550311", at=datetime.now(UTC))
    answered = lookups.answer(services, sid, Submit("service_request", {
        "service": "pothole", "address_recording": "https://api.twilio.com/rec/RE1",
        "callback": "+14105550199", "attribute:position": "crosswalk"}))
    assert answered.input.event == "result", answered.detail
    [message] = _messages(services, answered.input.result["number"])
    assert message.payload["media_url"] == "https://api.twilio.com/rec/RE1"
    assert "Address spoken by the caller" in message.payload["description"]
    assert message.payload["attribute[position]"] == "crosswalk"
