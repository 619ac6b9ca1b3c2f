"""The wallboard on a wall screen (1,920 x 1,080) in real headless Chromium, on a day of its own
(the SQL records of a test session are shared: another test's repairs today would be news on
this board)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import browser_support
from tests.browser.browser_support import Served, shot
from tests.e2e.conftest import Center
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def make_center():  # type: ignore[no-untyped-def]
    start = datetime(2032, 3, 2, 15, 0, tzinfo=UTC) + timedelta(weeks=random.randrange(4000))
    return lambda settings: Center(settings, start=start)


def sign_in(page, url: str, login: str) -> None:  # type: ignore[no-untyped-def]
    browser_support.sign_in(page, url, login, PASSWORD)


def test_on_a_wall_screen_with_nobody_waiting(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    """1,920 x 1,080: a caller waited long today and was answered; now nobody waits. The
    board says no wait now (not the day's longest), keeps its tiles in even rows, fills the
    screen with type read from across a room, and tells the time in the center's zone."""
    from ivr.calls import calllog
    from tests.ivr.console_support import queue_call

    expect = playwright.expect
    svc = served.center.services
    sid = queue_call(svc, waited=3600.0)  # an hour in line today, then gave up
    svc.queues.remove(sid)
    with svc.engine.begin() as conn:
        calllog.set_fields(conn, sid, outcome="abandoned", wait_seconds=3600.0,
                           ended_at=svc.clock())
    boss = f"sup-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, roles=("supervisor",))
    context = browser.new_context(viewport={"width": 1920, "height": 1080},
                                  timezone_id="Asia/Tokyo")  # not the center's zone
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    sign_in(page, served.url, boss)
    page.goto(f"{served.url}/console/wallboard")
    expect(page.locator("#board-status")).to_have_text("Live")
    general = page.locator('.board-class[data-class="general"]')
    expect(general.locator('[data-figure="waiting"] .v')).to_have_text("0")
    expect(general.locator('[data-figure="longest"] .v')).to_have_text("–")
    expect(general.locator('[data-figure="longest"] .k')).to_have_text("Longest wait now")
    # The center's zone (America/New_York in config.yaml), whatever the browser's.
    expect(page.locator("#board-at")).to_have_text(re.compile(r"as of \d\d:\d\d:\d\d E[SD]T$"))

    # Even rows: no tile alone on a row.
    for row in page.locator(".board-class .tiles").all():
        tops = [box["y"] for box in (t.bounding_box() for t in row.locator(".tile").all())]
        counts = sorted({y: tops.count(y) for y in tops}.values())
        assert counts[0] >= counts[-1] - 1 and (len(counts) == 1 or counts[0] > 1), counts
    # Two classes side by side, large type, the whole board on one screen.
    boxes = [s.bounding_box() for s in page.locator(".board-class").all()]
    assert len(boxes) == 2 and boxes[0]["y"] == boxes[1]["y"], boxes
    size = page.locator('[data-figure="waiting"] .v').first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 40, size
    assert all(b["y"] + b["height"] <= 1080 for b in boxes), boxes  # on one screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    shot(page, "wallboard-1920-nobody-waiting.png")
    assert page.errors == []
    context.close()
