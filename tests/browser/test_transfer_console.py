"""A warm transfer in real headless Chromium: a call-taker transfers a caller to the county's
911 dispatch center from the console, a dispatcher sees it arrive in the dispatch inbox and
acknowledges it. The app is served over HTTP; Twilio is the emulator. Screenshots go to
artifacts/.
"""

from __future__ import annotations

import uuid

import pytest

from ivr.sim import answers, press, wait
from tests.browser.browser_support import Served, new_page, shot, sign_in
from tests.e2e.transfer_support import PSAP, dispatch_center
from tests.ivr.console_support import PASSWORD, add_account, fresh_number

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def make_center():  # type: ignore[no-untyped-def]
    return dispatch_center  # a center with a dispatch center configured (tests/e2e)


def _sign_in(page, url: str, login: str, lands: str = "/console/") -> None:  # type: ignore[no-untyped-def]
    sign_in(page, url, login, PASSWORD)
    playwright.expect(page).to_have_url(f"{url}{lands}")


def test_call_taker_warm_transfers_and_the_dispatcher_acknowledges(served: Served,  # type: ignore[no-untyped-def]
                                                                   browser) -> None:
    expect = playwright.expect
    center, url = served.center, served.url
    svc = center.services  # type: ignore[attr-defined]
    sim = center.sim  # type: ignore[attr-defined]
    taker = f"maria-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=taker, name="Maria Lopez")
    dispatcher = f"dan-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=dispatcher, name="Dan Reyes", roles=("dispatcher",), skills=())

    console = new_page(browser)
    _sign_in(console, url, taker)
    console.click("#btn-available")
    expect(console.locator("#state-label")).to_have_text("Available")

    inbox = new_page(browser)
    _sign_in(inbox, url, dispatcher, lands="/dispatch/")  # a dispatcher's desk is the inbox
    expect(inbox.locator("#inbox-status")).to_have_text("Live")

    # A resident dials 311 and asks for a person; the call-taker accepts.
    sim.on_dial(f"client:{taker}", answers(after=2, hangup_after=900))
    sim.on_dial(PSAP, answers(after=6, hangup_after=600))
    caller = fresh_number()
    call = center.call([press("1"), press("0"), wait(900)], caller=caller)  # type: ignore[attr-defined]
    for _ in range(120):
        sim.advance(1)
        if svc.router.reservations.all():
            break
    expect(console.locator("#panel-offer")).to_be_visible()
    with console.expect_response(lambda r: r.url.endswith("/accept")) as accepted:
        console.click("#btn-accept")
    assert accepted.value.status == 200
    expect(console.locator("#state-label")).to_have_text("On call")
    for _ in range(30):  # the call-taker's phone answers: caller and call-taker are bridged
        sim.advance(1)
        link = svc.links.for_call(call.sid)
        if link is not None and link.bridged:
            break

    # Warm transfer to the county's 911 dispatch, with the location.
    expect(console.locator("#transfer-center option")).to_have_count(2)
    console.select_option("#transfer-center", "psap")
    console.fill("#transfer-location", "1200 Harford Rd, basement")
    with console.expect_response(lambda r: r.url.endswith("/call/transfer")
                                 and r.request.method == "POST") as started:
        console.click("#btn-transfer-warm")
    assert started.value.status == 201, started.value.json()
    expect(console.locator("#transfer-status")).to_contain_text("Calling the dispatch center")
    expect(console.locator("#btn-transfer-cancel")).to_be_visible()
    shot(console, "transfer-console-dialing.png")

    # The dispatcher sees it arrive, with the incident data.
    card = inbox.locator(f'li.transfer[data-call="{call.sid}"]')  # the database is shared
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-state", "dialing")
    expect(card).to_contain_text("County 911 dispatch")
    expect(card).to_contain_text("1200 Harford Rd, basement")
    expect(card).to_contain_text(f"tel:{caller}")
    expect(card).to_have_attribute("data-acknowledged", "no")
    shot(inbox, "transfer-inbox-arrived.png")

    # The dispatch line answers: the call-taker briefs, then completes.
    sim.advance(7)
    expect(console.locator("#transfer-status")).to_contain_text("Dispatcher on the line")
    console.click("#btn-transfer-complete")
    expect(console.locator("#transfer-status")).to_contain_text("Transferred")
    sim.advance(2)
    expect(console.locator("#state-label")).to_have_text("Wrap-up")
    shot(console, "transfer-console-completed.png")

    expect(card).to_have_attribute("data-state", "completed")
    card.locator(".btn-ack").click()
    expect(card).to_contain_text(f"Acknowledged by {dispatcher}")
    expect(card).to_have_attribute("data-acknowledged", "yes")
    shot(inbox, "transfer-inbox-acknowledged.png")
    assert not console.errors and not inbox.errors  # type: ignore[attr-defined]
