"""Accounts over /api/v1/accounts: admins manage them, supervisors change call-takers' skills,
everybody else is refused; bad input gets a precise 4xx."""

from __future__ import annotations

import uuid

import pytest

from agents import State
from ivr.connect import actions as connect
from tests.ivr.console_support import PASSWORD, Desk, add_account


@pytest.fixture
def admin(app, services) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(app.test_client(), add_account(services, roles=("admin",)))


def _new_login() -> str:
    return f"new-{uuid.uuid4().hex[:8]}"


def _patch(desk: Desk, path: str, body: dict) -> object:
    return desk.client.patch(f"/api/v1{path}", json=body, headers={"X-CSRF-Token": desk.token})


def test_an_admin_creates_an_account_that_can_sign_in(app, admin: Desk) -> None:  # type: ignore[no-untyped-def]
    login = _new_login()
    made = admin.post("/accounts", {"login": login, "name": "Ana Ruiz", "password": PASSWORD,
                                    "roles": ["call-taker"], "skills": ["line:311", "lang:es"]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["skills"] == ["lang:es", "line:311"]
    assert body["contact"] == f"client:{login}"
    assert "password" not in body and "password_hash" not in body
    listed = [a["login"] for a in admin.get("/accounts").get_json()["accounts"]]
    assert login in listed
    Desk(app.test_client(), login)  # signs in with the password the admin gave


@pytest.mark.parametrize("body, status, code", [
    ({"name": "X", "password": PASSWORD, "roles": ["call-taker"]}, 400, "bad_request"),
    ({"login": "Bad Login!", "name": "X", "password": PASSWORD, "roles": ["call-taker"]},
     400, "invalid"),
    ({"login": "{new}", "name": "X", "password": "short", "roles": ["call-taker"]},
     400, "invalid"),
    ({"login": "{new}", "name": "X", "password": PASSWORD, "roles": ["boss"]}, 400, "invalid"),
    ({"login": "{new}", "name": "X", "password": PASSWORD, "roles": ["call-taker"],
      "skills": ["spanish"]}, 400, "invalid"),
    ({"login": "{new}", "name": "X", "password": PASSWORD, "roles": "call-taker"},
     400, "bad_request"),
    ({"login": "{new}", "name": "X", "password": PASSWORD, "roles": ["call-taker"],
      "is_root": True}, 400, "bad_request"),
])
def test_bad_accounts_are_refused_precisely(admin: Desk, body: dict, status: int,  # type: ignore[no-untyped-def]
                                            code: str) -> None:
    if body.get("login") == "{new}":
        body = {**body, "login": _new_login()}
    answer = admin.post("/accounts", body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"] == code


def test_a_taken_login_is_a_conflict(services, admin: Desk) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    answer = admin.post("/accounts", {"login": login, "name": "Twin", "password": PASSWORD,
                                      "roles": ["call-taker"]})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "login_taken"


def test_disabling_signs_out_and_takes_the_call_taker_off_the_floor(  # type: ignore[no-untyped-def]
        app, services, clock, admin: Desk) -> None:
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    assert desk.post("/presence/available").status_code == 200
    answer = admin.post(f"/accounts/{login}/disable")
    assert answer.status_code == 200 and answer.get_json()["active"] is False
    assert desk.get("/me").status_code == 401
    connect.tick(services, clock().timestamp())
    assert services.agents.get(login).state == State.OFFLINE
    assert admin.post(f"/accounts/{login}/enable").get_json()["active"] is True


def test_an_admin_cannot_disable_or_demote_themselves(admin: Desk) -> None:
    assert admin.post(f"/accounts/{admin.login}/disable").get_json()["error"]["code"] == \
        "own_account"
    answer = _patch(admin, f"/accounts/{admin.login}", {"roles": ["supervisor"]})
    assert answer.status_code == 409


def test_a_supervisor_changes_skills_of_call_takers_only(app, services) -> None:  # type: ignore[no-untyped-def]
    supervisor = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    taker = add_account(services)
    other_admin = add_account(services, roles=("admin",))
    changed = _patch(supervisor, f"/accounts/{taker}", {"skills": ["line:311", "lang:es"]})
    assert changed.status_code == 200
    assert changed.get_json()["skills"] == ["lang:es", "line:311"]
    for path, body in [(f"/accounts/{taker}", {"name": "Renamed"}),
                       (f"/accounts/{taker}", {"roles": ["admin"]}),
                       (f"/accounts/{other_admin}", {"skills": ["line:311"]})]:
        assert _patch(supervisor, path, body).status_code == 403, (path, body)
    for path in ("/accounts", f"/accounts/{taker}/disable"):
        assert supervisor.post(path, {}).status_code == 403


def test_call_takers_and_strangers_are_refused(app, services) -> None:  # type: ignore[no-untyped-def]
    taker = Desk(app.test_client(), add_account(services))
    assert taker.get("/accounts").status_code == 403
    assert app.test_client().get("/api/v1/accounts").status_code == 401
    page = app.test_client().get("/admin/accounts")
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]
    assert taker.client.get("/admin/accounts").status_code == 403


def test_writes_need_the_csrf_token(admin: Desk) -> None:
    answer = admin.post("/accounts", {"login": _new_login()}, token="")
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "csrf_failed"


def test_unknown_accounts_are_404(admin: Desk) -> None:
    assert admin.get("/accounts/nobody-here").status_code == 404
    assert admin.post("/accounts/nobody-here/disable").status_code == 404
