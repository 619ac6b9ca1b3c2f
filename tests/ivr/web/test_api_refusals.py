"""What the console spec forbids, the server refuses with a precise 400 (issue 18, finding 8),
and what it allows, the server takes: the cases schemathesis found drifting."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.ivr.console_support import Desk, add_account


@pytest.fixture
def admin(app: Flask, services) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(app.test_client(),
                add_account(services, roles=("admin", "supervisor", "call-taker")))


def _refused(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    assert words in response.get_json()["error"]["message"]


def test_nul_anywhere_in_a_request_is_a_400_on_every_backend(admin: Desk) -> None:
    """PostgreSQL cannot store NUL: it was a 500 there (and taken on SQLite)."""
    _refused(admin.post("/call/notes", {"text": "a\x00b"}), "body holds a NUL")
    _refused(admin.post("/accounts", {"login": "nul-test", "name": "x\x00",
                                      "password": "long enough pass", "roles": ["admin"]}),
             "body holds a NUL")
    _refused(admin.get("/dispatch/transfers?center=a%00"), "query holds a NUL")
    _refused(admin.get("/calls/CA%00/history"), "path holds a NUL")
    assert admin.get("/dispatch/transfers?center=a").status_code == 200


@pytest.mark.parametrize("limit", ["201", "0", "-1", "5.5", "x", "²"])
def test_a_limit_outside_1_to_200_is_refused(admin: Desk, limit: str) -> None:
    _refused(admin.get(f"/dispatch/transfers?limit={limit}"), "from 1 to 200")


def test_limits_1_and_200_are_taken(admin: Desk) -> None:
    assert admin.get("/dispatch/transfers?limit=200").status_code == 200
    assert admin.get("/dispatch/transfers?limit=1").status_code == 200


def test_a_diagram_embed_outside_0_and_1_is_refused(admin: Desk) -> None:
    _refused(admin.get("/flows/311/diagram?embed=2"), "embed is 0 or 1")
    assert admin.get("/flows/311/diagram?embed=1").status_code == 200


@pytest.mark.parametrize("version", ["%20live", "LIVE", "%C2%B2", "1234567890", "-1"])
def test_a_version_is_live_draft_or_a_number_as_the_spec_writes_it(admin: Desk,
                                                                   version: str) -> None:
    _refused(admin.get(f"/flows/311/graph?version={version}"), "is not a version")


def test_a_version_beyond_an_sql_integer_is_404_not_500(admin: Desk) -> None:
    assert admin.get("/flows/311/versions/549755813888").status_code == 404


def test_a_revision_written_as_a_float_of_a_whole_number_is_taken(admin: Desk) -> None:
    """JSON Schema counts 3.0 as an integer; so does the server."""
    flow = admin.get("/flows/311").get_json()
    saved = admin.post("/flows/311/draft", {"text": flow["draft"]["text"],
                                            "revision": float(flow["draft"]["revision"])})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    _refused(admin.post("/flows/311/draft", {"text": "x", "revision": 1.5}), "whole number")
    _refused(admin.post("/flows/311/rollback", {"version": 0}), "from 1 to")


def test_the_login_cannot_be_changed(admin: Desk) -> None:
    _refused(admin.patch(f"/accounts/{admin.login}", {"login": "someone-else"}),
             "unknown fields: login")


@pytest.mark.parametrize("query", ["goal=0.5", "goal=100", "agents=100001",
                                   "goal=80&interval=0.5", "goal=80&calls=1000001"])
def test_staffing_outside_its_bounds_is_refused(admin: Desk, query: str) -> None:
    base = {"calls": "100", "interval": "1800", "aht": "240", "target": "20"}
    asked = dict(part.split("=") for part in query.split("&"))
    response = admin.get("/staffing?" + "&".join(f"{k}={v}" for k, v in {**base, **asked}.items()))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_parameter"


def test_a_trial_answered_record_at_a_keys_question_is_silence(admin: Desk) -> None:
    trial = admin.post("/flows/311/trial", {"answers": ["record"]})
    assert trial.status_code == 200, trial.get_data(as_text=True)
    assert trial.get_json()["turns"][0]["answer"] is not None
