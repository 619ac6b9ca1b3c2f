"""The specs and the server, checked against each other by schemathesis (issue 18, finding 8).

Bounded so the suite stays quick: a few derandomized examples per operation, through the WSGI
app in-process, as a signed-in account holding every role (with the session's CSRF token).

Both specs are held to every check schemathesis runs on a generated request (no 5xx, status
codes, content types, headers and bodies as documented, every request the spec allows
accepted), except where a rule no JSON schema can say is written down below. Strings are
generated without NUL: the API refuses it everywhere (documented; tested in
test_console_api.py), as PostgreSQL cannot store it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings

from tests.ivr.console_support import Desk, add_account

SPECS = Path(__file__).resolve().parents[3] / "openapi"
EXAMPLES = {"open311.yaml": 25, "console.yaml": 6}  # 6 operations; 66

# Why an operation is spared a check, each a rule no JSON schema can say.
OPEN311_SPARED = {
    # a window of at most 90 days, starting before it ends (documented in its description)
    "GET /requests.{format}": "positive_data_acceptance",
}
CONSOLE_SPARED = {
    # the codes are the center's (config console.dispositions, GET /me): 400 for another
    "POST /call/wrap-up": "positive_data_acceptance",
    # the questions and their maximum scores are the center's (config quality.questions, GET
    # /quality): 400 for another; and only a call of the period's sample can be reviewed
    "POST /quality/reviews": "positive_data_acceptance",
    # exactly one of two query parameters, agents or goal
    "GET /staffing": "positive_data_acceptance",
    # the languages are those of the line's live flow: 422 when one is missing or unknown
    "POST /announcements/{line}": "positive_data_acceptance",
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
    schema.config.generation.update(allow_x00=False)
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


def _sparing(spared: dict[str, str]):  # type: ignore[no-untyped-def]
    def checks_for(label: str) -> dict:  # type: ignore[type-arg]
        check = spared.get(label)
        return {} if check is None else {"excluded_checks": [getattr(schemathesis.checks, check)]}

    return checks_for


def test_open311_spec_and_server_agree(app: Flask, everyone: Desk) -> None:
    assert _run(app, "open311.yaml", everyone, _sparing(OPEN311_SPARED)) == []


def test_console_spec_and_server_agree(app: Flask, everyone: Desk) -> None:
    found = _run(app, "console.yaml", everyone, _sparing(CONSOLE_SPARED))
    assert found == [], "\n\n".join(found)
