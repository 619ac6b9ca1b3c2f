from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.bootstrap import bootstrap
from ivr.services import Services
from tests.conftest import PUBLIC_URL, TEST_TOKEN


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> FixedClock:
    # A Monday afternoon in New York: the 311 line is open.
    return FixedClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))


@pytest.fixture
def services(settings, clock) -> Services:  # type: ignore[no-untyped-def]
    svc = bootstrap(settings, clock=clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


Post = Callable[..., object]


@pytest.fixture
def signed_post(app: Flask) -> Post:
    """POST as Twilio would: form-encoded and signed for the public URL."""
    client: FlaskClient = app.test_client()
    validator = RequestValidator(TEST_TOKEN)

    def post(path: str, params: dict[str, str], signature: str | None = None):  # type: ignore[no-untyped-def]
        sig = signature if signature is not None else validator.compute_signature(
            PUBLIC_URL + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    return post
