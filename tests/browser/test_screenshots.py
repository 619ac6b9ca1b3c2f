"""Every page at a desk's width (1,440 px) and a wall screen's (1,920 px), saved under
artifacts/pages/ for a person to look at, on a floor with a day of calls behind it and a call
waiting. Each page is also checked for what a look would catch: no script error, nothing wider
than the screen, the bar on top.

Run it on its own to refresh the pictures:
    PYTHONPATH=$PWD python -m pytest -n 0 -q tests/browser/test_screenshots.py
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ivr.sim import answers, hangup, press, wait
from tests.browser.browser_support import ARTIFACTS, Served, sign_in
from tests.e2e.conftest import Center
from tests.e2e.floor import Floor
from tests.ivr.console_support import PASSWORD, add_account, fresh_number

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

SCREENS = {1440: 900, 1920: 1080}
SUPERVISOR_PAGES = {
    "landing": "/", "wallboard": "/console/wallboard", "reports": "/console/reports",
    "staffing": "/console/staffing?calls=120&interval=1800&aht=240&target=30&agents=20",
    "quality": "/console/quality",
    "flows": "/console/flows/", "flow-editor": "/console/flows/311",
    "accounts": "/admin/accounts", "dispatch-inbox": "/dispatch/",
}
PATIENT = [press("1"), press("0"), wait(900), hangup()]


@pytest.fixture
def make_center():  # type: ignore[no-untyped-def]
    """A weekday, 10:00 in New York (the 311 line is open), on a date no other test uses."""
    start = datetime(2031, 3, 3, 15, 0, tzinfo=UTC) + timedelta(weeks=random.randrange(4000))
    return lambda settings: Center(settings, start=start)


def busy_morning(center: Center) -> None:
    """Two call-takers answer a few calls; one caller gives up; one is still waiting."""
    floor = Floor(center)
    floor.login("carol", skills=("line:311", "line:911", "lang:en"))
    floor.login("dave", skills=("line:311", "lang:en"))
    floor.run(until=1)
    for i in range(5):
        center.call(PATIENT, caller=fresh_number(), at=2 + 20 * i)
    center.call([press("1"), press("0"), wait(20), hangup()], caller=fresh_number(), at=5)
    floor.run(until=1500)  # every call over, wrap-ups done
    agents = center.services.agents
    agents.go_on_break("carol", "lunch", floor.now())
    agents.logout("dave", floor.now())
    center.call(PATIENT, caller=fresh_number())
    center.sim.advance(90)


def page_at(browser, width: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": SCREENS[width]})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def save(page, width: int, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{name} at {width} px is {wide} px wide"
    assert page.errors == [], (name, page.errors)


def test_every_page_at_a_desk_and_on_a_wall_screen(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    center, svc = served.center, served.center.services
    busy_morning(center)
    boss = add_account(svc, roles=("supervisor", "admin"), name="Sam Boss")
    taker = add_account(svc, name="Maria Lopez", skills=("line:311", "lang:en", "lang:es"))
    for width in SCREENS:
        page = page_at(browser, width)
        page.goto(f"{served.url}/")
        save(page, width, "landing-signed-out")
        page.goto(f"{served.url}/console/login")
        save(page, width, "sign-in")
        sign_in(page, served.url, boss, PASSWORD)
        for name, path in SUPERVISOR_PAGES.items():
            page.goto(f"{served.url}{path}")
            expect(page.locator(".site-nav")).to_be_visible()
            if name == "wallboard":
                expect(page.locator("#board-status")).to_have_text("Live")
            if name == "flow-editor":
                expect(page.locator("#check-pill")).not_to_have_text("checking…")
                expect(page.locator("#diagram svg")).to_be_visible()
                save(page, width, name)
                page.click("#btn-fit")
                name = "flow-editor-fit"
            if name in ("flows", "accounts"):
                page.wait_for_load_state("networkidle")
            save(page, width, name)
            if name == "accounts":
                page.click("#btn-new")
                expect(page.locator("#editor")).to_be_visible()
                save(page, width, "accounts-new")
        page.context.close()

    # The call-taker's desk in each state of a call, at both widths.
    desk = page_at(browser, 1440)
    sign_in(desk, served.url, taker, PASSWORD)
    expect(desk.locator("#conn-status")).to_have_text("Live")
    both(desk, "console-offline")
    center.sim.on_dial(f"client:{taker}", answers(after=2, hangup_after=900))
    desk.click("#btn-available")  # the caller waiting in line is offered at once
    for _ in range(120):
        center.sim.advance(1)
        if svc.router.reservations.all():
            break
    expect(desk.locator("#panel-offer")).to_be_visible()
    both(desk, "console-offer")
    desk.click("#btn-accept")
    expect(desk.locator("#state-label")).to_have_text("On call")
    center.sim.advance(5)
    desk.fill("#note-text", "Pothole on Harford Rd, about a foot wide")
    desk.click("#btn-note")
    expect(desk.locator("#notes li")).to_have_count(1)
    both(desk, "console-on-call")
    desk.click("#sr-toggle")
    expect(desk.locator("#sr-panel")).to_be_visible()
    both(desk, "console-requests")
    desk.context.close()


def both(page, name: str) -> None:  # type: ignore[no-untyped-def]
    for width, height in SCREENS.items():
        page.set_viewport_size({"width": width, "height": height})
        save(page, width, name)
