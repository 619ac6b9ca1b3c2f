"""Presence follows the account: a disabled call-taker is signed out and offered nothing; a
change of skills takes effect for the next offer."""

from __future__ import annotations

from datetime import UTC, datetime

from agents import State
from ivr.accounts import accounts
from ivr.connect import actions as connect
from ivr.platform.db import transaction
from tests.ivr.console_support import Desk, add_account, queue_call


def _update(services, login: str, **change) -> None:  # type: ignore[no-untyped-def]
    with transaction(services.sessions) as session:
        accounts.update(session, login, now=datetime.now(UTC), **change)


def test_a_disabled_call_taker_is_logged_out_and_offered_nothing(  # type: ignore[no-untyped-def]
        app, services, clock) -> None:
    login = add_account(services)
    desk = Desk(app.test_client(), login)
    assert desk.post("/presence/available").status_code == 200
    assert services.agents.get(login).state == State.AVAILABLE

    _update(services, login, active=False)
    connect.tick(services, clock().timestamp())

    assert services.agents.get(login).state == State.OFFLINE
    sid = queue_call(services)
    connect.tick(services, clock().timestamp() + 1)
    assert services.agents.get(login).state == State.OFFLINE
    assert services.queues.position(sid, clock().timestamp() + 1) == 1
    # and the console that was signed in can no longer act
    assert desk.post("/presence/available").status_code in (401, 403)


def test_a_call_taker_on_break_goes_at_once_one_with_an_offer_after_it(  # type: ignore[no-untyped-def]
        app, services, clock) -> None:
    resting, ringing = add_account(services), add_account(services)
    now = clock().timestamp()
    for login in (resting, ringing):
        services.agents.login(login, ["line:311", "lang:en"], now)
    services.agents.go_on_break(resting, "lunch", now)
    queue_call(services)
    connect.tick(services, now)
    assert services.agents.get(ringing).state == State.RESERVED

    _update(services, resting, active=False)
    _update(services, ringing, active=False)
    changes = connect.roster.reconcile(services, now + 1)

    assert [(c.login, c.what) for c in changes] == [(resting, "logged out")]
    assert services.agents.get(resting).state == State.OFFLINE
    assert services.agents.get(ringing).state == State.RESERVED  # the offer is not cut short


def test_skills_changed_by_an_admin_reach_the_next_offer(  # type: ignore[no-untyped-def]
        app, services, clock) -> None:
    login = add_account(services, skills=("line:311", "lang:en"))
    now = clock().timestamp()
    services.agents.login(login, ["line:311", "lang:en"], now)
    _update(services, login, skills=["line:311", "lang:en", "lang:es"])
    connect.tick(services, now + 1)
    assert services.agents.get(login).skills == {"line:311", "lang:en", "lang:es"}
    assert services.agents.get(login).state == State.AVAILABLE
