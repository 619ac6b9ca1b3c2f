"""The call-taker's desk when things go wrong or pause: a failed Accept, a break. Real headless
Chromium against the real app; Twilio is the emulator."""

from __future__ import annotations

import uuid

import pytest

from ivr.web.console_api import ACCEPT_FAILED
from tests.browser.browser_support import Served, shot, sign_in
from tests.browser.test_console import CALL_TAKER_PLEASE
from tests.ivr.console_support import PASSWORD, add_account, fresh_number

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def test_a_failed_accept_says_why_in_a_sentence_and_the_page_keeps_its_width(  # type: ignore[no-untyped-def]
        served: Served, page) -> None:
    from ivr.telephony.rest import client_for
    from tests.conftest import TEST_ACCOUNT

    expect = playwright.expect
    center, svc = served.center, served.center.services
    login = f"kim-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=login, name="Kim Lee")
    sign_in(page, served.url, login, PASSWORD)
    expect(page.locator("#conn-status")).to_have_text("Live")
    page.click("#btn-available")
    expect(page.locator("#state-label")).to_have_text("Available")
    call = center.call(CALL_TAKER_PLEASE, caller=fresh_number())
    for _ in range(120):
        center.sim.advance(1)
        if svc.router.reservations.all():
            break
    else:
        raise AssertionError("the call was never offered")
    expect(page.locator("#panel-offer")).to_be_visible()

    # Twilio refuses the dequeue (here: a wrong auth token, as with no Twilio account at all).
    tel = svc.telephony
    good, tel._client = tel._client, client_for(center.settings.api_base, TEST_ACCOUNT, "wrong")
    try:
        page.click("#btn-accept")
        expect(page.locator("#message")).to_have_text(ACCEPT_FAILED)
    finally:
        tel._client = good
    assert "Traceback" not in page.content() and "HTTP" not in page.locator("#message").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1440, width  # the sentence fits; nothing pushes the page wider
    box = page.locator("#message").bounding_box()
    assert box["x"] + box["width"] <= 1440
    shot(page, "console-accept-failed.png")
    assert svc.queues.position(call.sid, svc.clock().timestamp()) == 1  # kept their place
    assert page.errors == []  # type: ignore[attr-defined]


def test_on_break_only_end_break_brings_the_call_taker_back(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    login = add_account(served.center.services, name="Bo Chen")
    sign_in(page, served.url, login, PASSWORD)
    expect(page.locator("#conn-status")).to_have_text("Live")
    expect(page.locator("#btn-available")).to_be_enabled()
    expect(page.locator("#btn-end-break")).to_be_disabled()
    page.click("#btn-available")
    expect(page.locator("#state-label")).to_have_text("Available")
    expect(page.locator("#btn-available")).to_be_disabled()
    page.click("#btn-break")
    expect(page.locator("#state-label")).to_contain_text("Break")
    expect(page.locator("#btn-available")).to_be_disabled()  # one way back, not two
    expect(page.locator("#btn-end-break")).to_be_enabled()
    shot(page, "console-on-break.png")
    page.click("#btn-end-break")
    expect(page.locator("#state-label")).to_have_text("Available")
    expect(page.locator("#btn-end-break")).to_be_disabled()
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_rejected_call_does_not_ring_again_at_once_for_the_one_who_rejected_it(  # type: ignore[no-untyped-def]
        served: Served, page) -> None:
    expect = playwright.expect
    center, svc = served.center, served.center.services
    delay = svc.agents.rules.reject_delay
    login = add_account(svc, name="Ira Reyes")
    sign_in(page, served.url, login, PASSWORD)
    expect(page.locator("#conn-status")).to_have_text("Live")
    page.click("#btn-available")
    expect(page.locator("#state-label")).to_have_text("Available")
    call = center.call(CALL_TAKER_PLEASE, caller=fresh_number())
    for _ in range(120):
        center.sim.advance(1)
        if svc.router.reservations.all():
            break
    expect(page.locator("#panel-offer")).to_be_visible()
    page.keyboard.press("r")
    expect(page.locator("#message")).to_have_text(
        f"Call rejected: it goes to the next call-taker. No call is offered to you for "
        f"{int(delay)} s.")
    expect(page.locator("#state-label")).to_have_text("Available")
    # The ticker's work (`ivr serve` runs it every second), on the emulator's clock.
    center.sim.advance(delay - 2)
    svc.router.tick(svc.clock().timestamp())
    assert svc.router.reservations.all() == []  # alone on the floor: the call waits
    expect(page.locator("#panel-offer")).to_be_hidden()
    center.sim.advance(3)
    svc.router.tick(svc.clock().timestamp())  # the cooldown is over: it is offered again
    expect(page.locator("#panel-offer")).to_be_visible()
    assert svc.router.reservations.for_call(call.sid) is not None
    assert page.errors == []  # type: ignore[attr-defined]
