"""A rollover on the supervisors' wallboard, in real headless Chromium: the floor could not
answer a 911 caller, who was put through to the alternate PSAP; the board says so."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import browser_support
from tests.browser.browser_support import Served, shot
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def make_center():  # type: ignore[no-untyped-def]
    from tests.e2e.test_floor_figures import a_monday
    from tests.e2e.test_rollover import rollover_center

    return lambda settings: rollover_center(settings, start=a_monday())  # a day of its own


def test_the_wallboard_shows_a_rollover(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    from ivr.sim import answers, hangup, wait
    from tests.e2e.conftest import LINE_911
    from tests.e2e.floor import Floor
    from tests.e2e.transfer_support import PSAP

    center, svc = served.center, served.center.services
    center.sim.on_dial(PSAP, answers(after=4, hangup_after=30))
    floor = Floor(center)
    center.call([wait(300), hangup()], line=LINE_911)
    floor.run(until=120)
    boss = f"sup-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, roles=("supervisor",))
    browser_support.sign_in(page, served.url, boss, PASSWORD)
    page.goto(f"{served.url}/console/wallboard")
    expect = playwright.expect
    expect(page.locator("#board-status")).to_have_text("Live")
    section = page.locator(".board-rollovers")
    expect(section.locator("h2")).to_have_text("Rollovers to other PSAPs today")
    expect(section.locator('[data-figure="rollovers"] .v')).to_have_text("1")
    expect(section.locator('[data-figure="rollovers-no-staff"] .v')).to_have_text("1")
    expect(section.locator('[data-figure="rollovers-answered"] .v')).to_have_text("1")
    expect(section.locator('[data-figure="rollovers-answer"] .v')).to_contain_text(" s")
    # news of the day: the rollovers come before the classes
    assert page.locator("#board > section").first.get_attribute("class") == "board-rollovers"
    shot(page, "wallboard-rollover.png")
    assert page.errors == []  # type: ignore[attr-defined]
