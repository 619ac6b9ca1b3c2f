"""Fixtures for the emulator's tests: a small Flask app to talk to, and an emulator factory."""

from __future__ import annotations

import pytest
from sim_helpers import App, make_app


@pytest.fixture
def app() -> App:
    return make_app()
