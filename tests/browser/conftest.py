"""Fixtures of the browser tests: real headless Chromium (Debian's) against the real app.

Every browser test runs on the embedded backend only (the default install); the API tests cover
both backends. Without Chromium or Playwright the whole folder is skipped.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from collections.abc import Iterator

import pytest

from tests.browser.browser_support import CHROMIUM_ARGS, Served, chromium
from tests.e2e.conftest import Center

if chromium() is None or importlib.util.find_spec("playwright") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def served(settings) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    raw = {**settings.raw, "console": {**settings.raw.get("console", {}),
                                       "secure_cookies": False,  # plain http on localhost
                                       "events_heartbeat_seconds": 2}}
    center = Center(dataclasses.replace(settings, raw=raw))
    server = make_server("127.0.0.1", 0, center.app, threaded=True)
    server.block_on_close = False  # open event streams must not hold up the shutdown
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield Served(center, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    center.close()


@pytest.fixture
def page(served: Served):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
        yield page
        context.close()
        browser.close()
