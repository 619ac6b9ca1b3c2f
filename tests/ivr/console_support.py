"""Helpers of the console tests: accounts, signing in through the real form, queued calls."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from ivr.accounts import accounts
from ivr.calls import calllog
from ivr.platform.db import transaction
from ivr.services import Services
from ivr.sim import answers, press, wait

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def fresh_number() -> str:
    """A caller number no other test uses (the test database is shared by the session)."""
    return "+1410" + str(uuid.uuid4().int % 10_000_000).zfill(7)


def add_account(svc: Services, roles: tuple[str, ...] = ("call-taker",),
                skills: tuple[str, ...] = ("line:311", "lang:en"), contact: str | None = None,
                login: str | None = None, name: str | None = None) -> str:
    """A new account with a login of its own (the test database is shared); returns it."""
    login = login or f"ct-{uuid.uuid4().hex[:10]}"
    with transaction(svc.sessions) as session:
        accounts.create(session, login=login, name=name or f"Test {login}", password=PASSWORD,
                        roles=roles, skills=skills, contact=contact, now=datetime.now(UTC))
    return login


def form_token(client: FlaskClient) -> str:
    page = client.get("/console/login").get_data(as_text=True)
    found = _CSRF_FIELD.search(page)
    assert found, page
    return found.group(1)


def sign_in(client: FlaskClient, login: str, password: str = PASSWORD) -> Any:
    return client.post("/console/login", data={"login": login, "password": password,
                                               "csrf_token": form_token(client)})


class Desk:
    """A signed-in browser: JSON calls with this session's CSRF token."""

    def __init__(self, client: FlaskClient, login: str) -> None:
        self.client = client
        self.login = login
        response = sign_in(client, login)
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = client.get("/api/v1/me").get_json()["csrf_token"]

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")

    def post(self, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"X-CSRF-Token": self.token if token is None else token}
        return self.client.post(f"/api/v1{path}", json=body or {}, headers=headers)

    def patch(self, path: str, body: dict[str, Any] | None = None,
              token: str | None = None) -> Any:
        headers = {"X-CSRF-Token": self.token if token is None else token}
        return self.client.patch(f"/api/v1{path}", json=body or {}, headers=headers)


def queue_call(svc: Services, caller: str | None = None, line: str = "311",
               topic: str = "pothole", language: str = "en", waited: float = 42.0,
               skills: tuple[str, ...] = ("line:311",), sid: str | None = None) -> str:
    """A call as the flow leaves it in line: its SQL row and enqueue event, and the queue
    entry. Returns its sid."""
    sid = sid or "CA" + uuid.uuid4().hex
    caller = caller or fresh_number()
    now = svc.clock()
    arrived = now - timedelta(seconds=waited)
    with svc.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line=line, caller=caller, dialed="+14435550311",
                          at=arrived - timedelta(seconds=30), flow=line, language=language)
        calllog.add_event(conn, sid, arrived, "enqueue", "general",
                          {"priority": 5, "skills": list(skills), "vars": {"topic": topic},
                           "path": ["welcome:en", "hours", "main:1", f"topic_{topic}"]})
        calllog.mark_queued(conn, sid, "general", arrived)
    pushed = svc.queues.push(sid, "general", 5, skills, arrived.timestamp(),
                             {"line": line, "language": language, "topic": topic})
    assert pushed.queued, pushed
    return sid


def past_call(svc: Services, caller: str, days_ago: int, outcome: str = "answered") -> str:
    sid = "CA" + uuid.uuid4().hex
    at = svc.clock() - timedelta(days=days_ago)
    with svc.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line="311", caller=caller, dialed="+14435550311", at=at)
        calllog.set_fields(conn, sid, outcome=outcome, ended_at=at + timedelta(minutes=3),
                           duration=180)
    return sid


def emulated_offer(center: Any, desk: Desk, caller: str | None = None,
                   max_seconds: int = 120) -> tuple[str, dict[str, Any]]:
    """A resident dials 311 through the emulator, asks for a call-taker (1 English, 0 a
    person) and waits; the emulator runs until `desk` is offered the call. Their phone (the
    browser's client identity) answers after 2 s. Returns the call id and the offer."""
    center.sim.on_dial(f"client:{desk.login}", answers(after=2, hangup_after=900))
    call = center.call([press("1"), press("0"), wait(900)], caller=caller or fresh_number())
    for _ in range(max_seconds):
        center.sim.advance(1)
        offer = desk.get("/offer").get_json()["offer"]
        if offer is not None:
            assert offer["call"] == call.sid
            return call.sid, offer
    raise AssertionError(f"no offer for {desk.login} within {max_seconds} s")
