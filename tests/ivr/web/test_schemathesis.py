"""The specs and the server, checked against each other by schemathesis (issue 18, finding 8).

Bounded so the suite stays quick: a few derandomized examples per operation, through the WSGI
app in-process, as a signed-in account holding every role (with the session's CSRF token).

Open311 is held to every default check. The console API is held to "no 5xx" for now: the
drift schemathesis still finds there (requests the spec allows that the server refuses, the
event streams' schema) is listed in the issue and not yet reconciled.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.ivr.console_support import Desk, add_account

SPECS = Path(__file__).resolve().parents[3] / "openapi"
EXAMPLES = {"open311.yaml": 25, "console.yaml": 4}  # 6 operations; 57

# Why an operation is spared a check, each a rule no JSON schema can say.
OPEN311_SPARED = {
    # a window of at most 90 days, starting before it ends (documented in its description)
    "GET /requests.{format}": "positive_data_acceptance",
}
CONSOLE_SKIPPED = {
    "GET /events": "a live stream: held open for minutes",
    "GET /wallboard/events": "a live stream: held open for minutes",
    "GET /voice/token": "503 by design while no Twilio API key is configured",
}


def _check(operation, examples: int, send: dict, failures: list[str]) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Run one operation's bounded examples; each failure is kept as text."""

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy())
    def run(case) -> None:  # type: ignore[no-untyped-def]
        try:
            case.call_and_validate(**send)
        except BaseExceptionGroup as exc:
            failures.append(f"{operation.label}: {exc}")

    run()


def _run(app: Flask, spec: str, desk: Desk, checks_for) -> list[str]:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_path(SPECS / spec)
    schema.app = app
    auth = {"headers": {"X-CSRF-Token": desk.token},
            "cookies": {"ivr_session": desk.client.get_cookie("ivr_session").value}}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if spec == "console.yaml" and operation.label in CONSOLE_SKIPPED:
            continue
        _check(operation, EXAMPLES[spec], {**auth, **checks_for(operation.label)}, failures)
    return failures


@pytest.fixture
def everyone(app: Flask, services) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(app.test_client(),
                add_account(services, roles=("admin", "supervisor", "call-taker")))


def test_open311_spec_and_server_agree(app: Flask, everyone: Desk) -> None:
    def checks_for(label: str) -> dict:  # type: ignore[type-arg]
        spared = OPEN311_SPARED.get(label)
        if spared is None:
            return {}
        return {"excluded_checks": [getattr(schemathesis.checks, spared)]}

    assert _run(app, "open311.yaml", everyone, checks_for) == []


def test_console_api_answers_no_5xx_to_anything_its_spec_allows(app: Flask,
                                                                everyone: Desk) -> None:
    failures = _run(app, "console.yaml", everyone, lambda _label: {"checks": [not_a_server_error]})
    assert failures == []
