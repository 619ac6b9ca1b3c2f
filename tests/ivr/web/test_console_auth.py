"""Signing in and out of the console, CSRF on the real app, roles, and the sign-in limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from ivr.accounts import accounts
from ivr.accounts.sessions import WebSession
from ivr.app import create_app
from ivr.platform.db import transaction
from tests.ivr.console_support import (
    PASSWORD,
    Desk,
    add_account,
    form_token,
    queue_call,
    sign_in,
)


def test_the_login_page_carries_a_csrf_field_and_strict_headers(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/console/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_signing_in_opens_the_console_with_a_hardened_cookie(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    client = app.test_client()
    before = form_token(client)
    response = sign_in(client, login)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the tests' public URL is https
    page = client.get("/console/")
    assert page.status_code == 200
    assert f"Test {login}" in page.get_data(as_text=True)
    me = client.get("/api/v1/me").get_json()
    assert me["account"]["login"] == login
    assert me["csrf_token"] != before  # a new session, a new token


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    client = app.test_client()
    wrong = sign_in(client, login, "not the password")
    unknown = sign_in(client, "nobody-" + login, "not the password")
    assert wrong.status_code == unknown.status_code == 401
    text = wrong.get_data(as_text=True)
    assert "Wrong login or password." in text
    other = unknown.get_data(as_text=True)
    assert text.replace(login, "X") == other.replace("nobody-" + login, "X")
    assert client.get("/api/v1/me").status_code == 401


def test_failed_sign_ins_are_limited_per_login(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    other = add_account(services)
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, login, "bad password").status_code == 401
    blocked = sign_in(client, login)  # even the right password, for a while
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # the same for a login that does not exist: no hint either way
    for _ in range(5):
        sign_in(client, "nobody-" + login, "bad password")
    assert sign_in(client, "nobody-" + login, "bad password").status_code == 429
    # another login from the same address is not blocked; the same login from elsewhere is
    assert sign_in(app.test_client(), other).status_code == 302
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert sign_in(elsewhere, login).status_code == 429


def _from(app: Flask, address: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


def test_one_try_on_each_of_many_logins_is_limited_per_address(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    real = add_account(services)
    sprayer = _from(app, "192.0.2.7")
    answers = [sign_in(sprayer, f"user{i}-{real}", "Winter2026!").status_code for i in range(30)]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}
    # the address is refused even with a right password; other addresses are not
    assert sign_in(sprayer, real).status_code == 429
    assert sign_in(_from(app, "192.0.2.8"), real).status_code == 302
    # a success of one's own does not reset the address's count
    assert sign_in(_from(app, "192.0.2.7"), "nobody-" + real, "x").status_code == 429


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    add_account(services)
    for i in range(20):
        client = _from(app, "192.0.2.9", forwarded=f"198.51.100.{i}")
        assert sign_in(client, f"spray{i}", "x").status_code == 401
    # writing another X-Forwarded-For does not make a new client
    assert sign_in(_from(app, "192.0.2.9", "198.51.100.250"), "spray", "x").status_code == 429


def test_behind_trusted_proxies_each_client_is_its_forwarded_address(services) -> None:  # type: ignore[no-untyped-def]
    services.settings = dataclasses.replace(
        services.settings, raw={**services.settings.raw, "web": {"trusted_proxies": 1}})
    app = create_app(services=services)
    login = add_account(services)
    proxy = "10.0.0.2"  # every request comes through the one load balancer
    for i in range(20):
        assert sign_in(_from(app, proxy, "203.0.113.66"), f"spray{i}", "x").status_code == 401
    assert sign_in(_from(app, proxy, "203.0.113.66"), login).status_code == 429
    # another client behind the same proxy is not locked out by the sprayer
    assert sign_in(_from(app, proxy, "203.0.113.67"), login).status_code == 302
    # only the last hop is trusted: a client writing its own X-Forwarded-For gains nothing
    spoofed = _from(app, proxy, "198.51.100.1, 203.0.113.66")
    assert sign_in(spoofed, login).status_code == 429


def test_a_success_forgets_the_failures(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    client = app.test_client()
    for _ in range(4):
        sign_in(client, login, "bad password")
    assert sign_in(client, login).status_code == 302
    fresh = app.test_client()
    for _ in range(4):
        assert sign_in(fresh, login, "bad password").status_code == 401
    assert sign_in(fresh, login).status_code == 302


def test_the_sign_in_form_needs_its_csrf_field(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    client = app.test_client()
    client.get("/console/login")
    response = client.post("/console/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_without_a_session_pages_redirect_and_the_api_answers_401(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/console/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/console/login")
    me = client.get("/api/v1/me")
    assert me.status_code == 401
    assert me.get_json()["error"]["code"] == "not_signed_in"


def test_without_a_secret_key_sign_in_is_unavailable(services) -> None:  # type: ignore[no-untyped-def]
    app = create_app(services=services, test_config={"SECRET_KEY": None})
    client = app.test_client()
    page = client.get("/console/login")
    assert page.status_code == 503 and "IVR_SECRET_KEY" in page.get_data(as_text=True)
    me = client.get("/api/v1/me")
    assert me.status_code == 503 and me.get_json()["error"]["code"] == "no_secret_key"


def test_api_writes_need_the_sessions_csrf_token(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(app.test_client(), add_account(services))
    missing = desk.post("/presence/available", token="")
    assert missing.status_code == 403
    assert missing.get_json()["error"]["code"] == "csrf_failed"
    assert desk.post("/presence/available", token="forged").status_code == 403
    assert desk.get("/me").get_json()["presence"]["state"] == "offline"
    assert desk.post("/presence/available").status_code == 200


def test_roles_are_checked_on_every_action(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    dispatcher = Desk(app.test_client(), add_account(services, roles=("dispatcher",)))
    assert dispatcher.get("/me").status_code == 200
    refused = dispatcher.post("/presence/available")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "forbidden" and "call-taker" in error["message"]
    assert dispatcher.get("/offer").status_code == 403
    assert dispatcher.get("/floor").status_code == 403

    taker = Desk(app.test_client(), add_account(services))
    assert taker.get("/floor").status_code == 403
    supervisor = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    floor = supervisor.get("/floor")
    assert floor.status_code == 200 and "agents" in floor.get_json()
    assert supervisor.post("/presence/available").status_code == 403


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(  # type: ignore[no-untyped-def]
        app: Flask, services) -> None:
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    with transaction(services.sessions) as session:
        accounts.update(session, login, now=datetime.now(UTC), password="a new long password")
    assert desk.get("/me").status_code == 401
    client = app.test_client()
    assert sign_in(client, login, "a new long password").status_code == 302
    with transaction(services.sessions) as session:
        accounts.update(session, login, now=datetime.now(UTC), active=False)
    assert client.get("/api/v1/me").status_code == 401
    refused = sign_in(client, login, "a new long password")  # the right password: told why
    assert refused.status_code == 403
    assert "This account is disabled. Ask an admin to enable it." in refused.get_data(as_text=True)
    wrong = sign_in(client, login, "not the password")  # a wrong one learns nothing more
    assert wrong.status_code == 401 and "disabled" not in wrong.get_data(as_text=True)


def test_signing_out_leaves_the_queues_and_ends_the_session(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    desk.post("/presence/available")
    assert desk.client.post("/console/logout").status_code == 400  # no CSRF field
    out = desk.client.post("/console/logout", data={"csrf_token": desk.token})
    assert out.status_code == 302 and "out=1" in out.headers["Location"]
    assert services.agents.get(login).state == "offline"
    assert desk.get("/me").status_code == 401


def test_signing_out_waits_for_an_offered_call_to_be_settled(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    desk.post("/presence/available")
    queue_call(services)
    services.router.route(services.clock().timestamp())
    refused = desk.client.post("/console/logout", data={"csrf_token": desk.token})
    assert refused.status_code == 409
    assert "accept or reject it before" in refused.get_data(as_text=True)
    assert desk.get("/me").status_code == 200
    assert services.agents.get(login).state == "reserved"


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """A browser (or an attacker) holding a copy of a session cookie taken earlier."""
    client = app.test_client()
    client.set_cookie("ivr_session", cookie, domain="localhost")
    return client


def test_a_cookie_saved_before_signing_out_is_worth_nothing_after(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    saved = desk.client.get_cookie("ivr_session").value
    thief = _replay(app, saved)
    assert thief.get("/api/v1/me").status_code == 200  # the copy works while the session does
    out = desk.client.post("/console/logout", data={"csrf_token": desk.token})
    assert out.status_code == 302
    thief = _replay(app, saved)
    assert thief.get("/api/v1/me").status_code == 401
    refused = thief.post("/api/v1/presence/available", json={},
                         headers={"X-CSRF-Token": desk.token})
    assert refused.status_code == 401
    assert services.agents.get(login) is None or services.agents.get(login).state == "offline"


def test_a_changed_password_or_a_disable_ends_saved_cookies_too(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    saved = desk.client.get_cookie("ivr_session").value
    with transaction(services.sessions) as session:
        accounts.update(session, login, now=datetime.now(UTC), password="a new long password")
        # the same password again: the stamp in the old cookie would match, the session does not
        accounts.update(session, login, now=datetime.now(UTC), password=PASSWORD)
    assert _replay(app, saved).get("/api/v1/me").status_code == 401
    again = Desk(app.test_client(), login)
    saved = again.client.get_cookie("ivr_session").value
    with transaction(services.sessions) as session:
        accounts.update(session, login, now=datetime.now(UTC), active=False)
        accounts.update(session, login, now=datetime.now(UTC), active=True)
    assert _replay(app, saved).get("/api/v1/me").status_code == 401


def test_an_admin_signs_an_account_out_everywhere(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    laptop, desk_pc = Desk(app.test_client(), login), Desk(app.test_client(), login)
    admin = Desk(app.test_client(), add_account(services, roles=("admin",)))
    supervisor = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    assert admin.post(f"/accounts/{login}/sign-out", token="").status_code == 403  # CSRF
    assert supervisor.post(f"/accounts/{login}/sign-out").status_code == 403
    assert laptop.get("/me").status_code == 200
    done = admin.post(f"/accounts/{login}/sign-out")
    assert done.status_code == 200 and done.get_json() == {"login": login, "sessions_ended": 2}
    assert laptop.get("/me").status_code == 401 and desk_pc.get("/me").status_code == 401
    assert admin.get("/me").status_code == 200
    assert admin.post("/accounts/nobody-at-all/sign-out").status_code == 404
    assert Desk(app.test_client(), login).get("/me").status_code == 200  # may sign in again


def test_a_session_ends_after_its_absolute_lifetime_even_if_used(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    assert desk.get("/me").status_code == 200
    with transaction(services.sessions) as session:
        mine = update(WebSession).where(
            WebSession.account_id == accounts.get(session, login).id)
    with transaction(services.sessions) as session:  # signed in 11 h 59 min ago: still good
        session.execute(mine.values(
            created_at=datetime.now(UTC) - timedelta(hours=11, minutes=59)))
    assert desk.get("/me").status_code == 200
    with transaction(services.sessions) as session:  # 12 h ago: over, however busy it was
        session.execute(mine.values(
            created_at=datetime.now(UTC) - timedelta(hours=12, seconds=1)))
    assert desk.get("/me").status_code == 401
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)  # the idle limit
