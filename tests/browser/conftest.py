"""Fixtures of the browser tests: real headless Chromium (Debian's) against the real app.

Every browser test runs on the embedded backend only (the default install); the API tests cover
both backends. Without Chromium or Playwright the whole folder is skipped.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.browser_support import CHROMIUM_ARGS, Served, chromium, new_page
from tests.e2e.conftest import Center

if chromium() is None or importlib.util.find_spec("playwright") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def make_center() -> Callable[[Any], Center]:
    """How the served center is built from its settings (a test module may override this)."""
    return Center


@pytest.fixture
def served(settings, make_center) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    raw = {**settings.raw, "console": {**settings.raw.get("console", {}),
                                       "secure_cookies": False,  # plain http on localhost
                                       "events_heartbeat_seconds": 2}}
    center = make_center(dataclasses.replace(settings, raw=raw))
    server = make_server("127.0.0.1", 0, center.app, threaded=True)
    server.block_on_close = False  # open event streams must not hold up the shutdown
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield Served(center, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    center.close()


@pytest.fixture
def browser(served: Served):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium_browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield chromium_browser
        chromium_browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    page = new_page(browser)
    yield page
    page.context.close()
