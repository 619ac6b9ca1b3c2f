"""The supervisors' wallboard in real headless Chromium: it fills in from the live stream and
follows the floor without a reload; the reports page draws its charts without any script."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import browser_support
from tests.browser.browser_support import Served, shot
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def sign_in(page, url: str, login: str) -> None:  # type: ignore[no-untyped-def]
    browser_support.sign_in(page, url, login, PASSWORD)


def test_the_wallboard_follows_the_floor_live(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    boss = f"sup-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, roles=("supervisor",))
    sign_in(page, served.url, boss)
    page.goto(f"{served.url}/console/wallboard")
    expect(page.locator("#board-status")).to_have_text("Live")
    emergency = page.locator('[data-class="emergency"]')
    general = page.locator('[data-class="general"]')
    expect(emergency.locator("h2")).to_have_text("emergency")
    expect(emergency.locator('[data-figure="agents-available"] .v')).to_have_text("0")
    expect(emergency.locator('[data-figure="sl-15"] .k')).to_have_text(
        "Service level 90% in 15 s")
    expect(emergency.locator("svg.day-chart")).to_have_count(1)

    # A call-taker for both lines logs in: both classes show them, pushed, no reload.
    svc.agents.login("wb-ann", ["line:311", "line:911"], svc.clock().timestamp())
    expect(emergency.locator('[data-figure="agents-available"] .v')).to_have_text("1")
    expect(general.locator('[data-figure="agents-available"] .v')).to_have_text("1")
    svc.agents.go_on_break("wb-ann", "Meal", svc.clock().timestamp())
    expect(general.locator('[data-figure="agents-on_break"] .v')).to_have_text("1")
    expect(general.locator('[data-figure="agents-available"] .v')).to_have_text("0")
    shot(page, "wallboard.png")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_call_taker_is_kept_out(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    svc = served.center.services
    taker = f"ct-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=taker)
    sign_in(page, served.url, taker)
    response = page.goto(f"{served.url}/console/wallboard")
    assert response is not None and response.status == 403
    assert "supervisor" in page.inner_text("body")


def test_the_reports_page_draws_the_day_without_a_script(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    from ivr.sim import answers, hangup, press, wait
    from tests.e2e.conftest import LINE_911
    from tests.e2e.floor import Floor

    center, svc = served.center, served.center.services
    floor = Floor(center)
    floor.login("rp-ann", skills=("line:311", "line:911"),
                phone=answers(after=3, hangup_after=60))
    center.call([press("1"), press("0"), wait(600), hangup()])
    center.call([wait(600), hangup()], line=LINE_911, caller="+14105559112", at=20)
    floor.run(until=400)
    boss = f"sup-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, roles=("supervisor",))
    page.context.set_extra_http_headers({})
    page.route("**/*.js", lambda route: route.abort())  # the page must not need a script
    sign_in(page, served.url, boss)
    day = svc.clock().date().isoformat()
    page.goto(f"{served.url}/console/reports?day={day}")
    expect = playwright.expect
    expect(page.locator("#classes tbody tr")).to_have_count(2)
    expect(page.locator("figure.chart svg")).to_have_count(2)
    expect(page.locator("#agents")).to_contain_text("rp-ann")
    shot(page, "reports.png")
    page.goto(f"{served.url}/console/staffing?calls=360&interval=1800&aht=240&target=20"
              f"&goal=80&day={day}")
    expect(page.locator("#erlang")).to_contain_text("54")
    expect(page.locator("#no-priorities")).to_contain_text("Erlang C knows no priorities")
    shot(page, "staffing.png")


def test_the_wallboard_shows_the_repairs_after_a_fault(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    """A caller hangs up while the app's host is down (both callbacks lost); the reconciler
    ends the call; the supervisor sees the repair on the wallboard, pushed live."""
    from ivr.sim import hangup, press, wait
    from ivr.voice.reconcile import reconcile
    from tests.e2e.floor import Floor

    expect = playwright.expect
    center, svc = served.center, served.center.services
    boss = f"sup-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, roles=("supervisor",))
    sign_in(page, served.url, boss)
    page.goto(f"{served.url}/console/wallboard")
    expect(page.locator("#board-status")).to_have_text("Live")
    expect(page.locator(".board-repairs h2")).to_have_text("Repairs after faults today")
    floor = Floor(center)
    call = center.call([press("1"), press("0"), wait(30), hangup()])
    floor.run(until=50)
    center.sim.take_down()  # the caller hangs up while nothing answers
    floor.run(until=90)
    center.sim.bring_up()
    floor.run(until=120)
    assert reconcile(svc).ended == [call.sid]
    svc.agents.login("wb-rep", ["line:311"], svc.clock().timestamp())  # a change: pushed now
    ended = page.locator('[data-figure="repairs-call-ended"] .v')
    expect(ended).to_be_visible()
    assert int(ended.inner_text()) >= 1
    expect(page.locator(".repairs-latest li").first).to_contain_text("completed at Twilio")
    expect(page.locator("#board > section").first).to_have_class("board-repairs")
    shot(page, "wallboard-repairs.png")
    assert page.errors == []  # type: ignore[attr-defined]

