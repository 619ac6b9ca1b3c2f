"""The whole floor offline, in real headless Chromium, against `ivr serve --emulate` run as a new
user runs it (a subprocess in a fresh folder, accounts made with `ivr agents add`).

A call-taker places a test call from the banner, takes it in the console (the emulated phone
shows the caller's side), holds it, writes a note and warm-transfers it to the emulated
dispatch center, which answers; the dispatcher sees the transfer with its incident data in the
inbox and acknowledges it. Wrap-up; a second 911 call is reclassified to 311, offered again and
cold-transferred. A caller's keys are pressed on the emulated phone's keypad. Every
page is marked as running on an emulated carrier; each is shot at 1,440 and 1,920 px into
artifacts/. Then SIGTERM stops the server with nothing left running.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.browser_support import CHROMIUM_ARGS, chromium, shot
from tests.e2e.emulated_support import PASSWORD, Floor, emulated_floor

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright.expect

ACCOUNTS = [
    ("maria", "Maria Lopez", ["--skill", "line:311", "--skill", "line:911"]),
    ("dan", "Dan Reyes", ["--role", "dispatcher"]),
    ("sam", "Sam Okafor", ["--role", "supervisor", "--role", "admin"]),
]
WIDTHS = (1440, 1920)


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Floor]:
    with emulated_floor(tmp_path, ACCOUNTS) as f:
        yield f


@pytest.fixture
def chrome(floor: Floor):  # type: ignore[no-untyped-def]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _desk(browser, url: str, login: str | None, lands: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{url}/console/login")
    if login is not None:
        page.fill("#login", login)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(re.escape(f"{url}{lands}")))
    return page


def _shots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000 if width == 1440 else 1080})
        shot(page, f"emulated-{name}-{width}.png")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_whole_floor_offline(floor: Floor, chrome) -> None:  # type: ignore[no-untyped-def]
    url = floor.url
    console = _desk(chrome, url, "maria", "/console/")
    banner = console.locator("#emulated-banner")
    expect(banner).to_contain_text("Emulated carrier")
    console.click("#btn-available")
    expect(console.locator("#state-label")).to_have_text("Available")

    inbox = _desk(chrome, url, "dan", "/dispatch/")
    expect(inbox.locator("#emulated-banner")).to_contain_text("Emulated carrier")
    expect(inbox.locator("#inbox-status")).to_have_text("Live")

    # A test call on the 911 line (straight to a call-taker, at any hour), from the banner.
    expect(console.locator("#emulated-place")).to_be_visible()
    console.select_option("#emulated-line", "911")
    with console.expect_response(lambda r: r.url.endswith("/api/v1/emulator/calls")) as placed:
        console.click("#btn-test-call")
    assert placed.value.status == 201, placed.value.text()
    sid = placed.value.json()["call"]
    phone = console.locator("#emulated-phone")
    expect(phone).to_be_visible()
    expect(console.locator("#panel-offer")).to_be_visible(timeout=60_000)
    _shots(console, "console-offer")

    # Accepted in the page: the carrier rings the call-taker's (emulated) browser phone, which
    # answers; the caller is taken from the line into the call's room.
    with console.expect_response(lambda r: r.url.endswith("/accept")) as accepted:
        console.click("#btn-accept")
    assert accepted.value.status == 200, accepted.value.text()
    expect(console.locator("#state-label")).to_have_text("On call")
    expect(phone.locator("#phone-lines")).to_contain_text("the call-taker is on the line",
                                                          timeout=30_000)

    # Hold and resume: the caller's side says so.
    console.click("#btn-hold")
    expect(console.locator("#call-held")).to_be_visible()
    expect(phone.locator("#phone-lines")).to_contain_text("put on hold")
    _shots(console, "console-on-hold")
    console.click("#btn-resume")
    expect(console.locator("#call-held")).to_be_hidden()
    expect(phone.locator("#phone-lines")).to_contain_text("taken off hold")

    # A note on the live call.
    console.fill("#note-text", "Smoke in the basement, caller is outside")
    console.click("#btn-note")
    expect(console.locator("#notes")).to_contain_text("Smoke in the basement")

    # Warm transfer to the emulated dispatch center, which answers.
    expect(console.locator("#transfer-center option[value=county-911]")).to_have_count(1)
    console.select_option("#transfer-center", "county-911")
    console.fill("#transfer-location", "1200 Harford Rd, basement")
    with console.expect_response(lambda r: r.url.endswith("/call/transfer")
                                 and r.request.method == "POST") as started:
        console.click("#btn-transfer-warm")
    assert started.value.status == 201, started.value.text()
    card = inbox.locator(f'li.transfer[data-call="{sid}"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("County 911 dispatch (emulated)")
    expect(card).to_contain_text("1200 Harford Rd, basement")  # the EIDO's incident summary
    expect(console.locator("#transfer-status")).to_contain_text("Dispatcher on the line",
                                                                timeout=30_000)
    _shots(console, "console-transfer-briefing")
    console.click("#btn-transfer-complete")
    expect(console.locator("#transfer-status")).to_contain_text("Transferred")
    expect(console.locator("#state-label")).to_have_text("Wrap-up", timeout=30_000)

    # The dispatcher acknowledges it.
    expect(card).to_have_attribute("data-state", "completed", timeout=30_000)
    _shots(inbox, "dispatch-inbox")
    card.locator(".btn-ack").click()
    expect(card).to_contain_text("Acknowledged by dan")
    _shots(inbox, "dispatch-inbox-acknowledged")

    # Wrap-up, then a second 911 call: not an emergency, reclassified to 311, offered again,
    # taken and cold-transferred.
    console.locator("label.disposition", has_text="Transferred").click()
    console.click("#btn-wrapup")
    expect(console.locator("#message")).to_have_text("Wrap-up done.")
    expect(console.locator("#state-label")).to_have_text("Available")  # ready for the next
    console.select_option("#emulated-line", "911")
    with console.expect_response(lambda r: r.url.endswith("/api/v1/emulator/calls")) as second:
        console.click("#btn-test-call")
    second_sid = second.value.json()["call"]
    expect(console.locator("#panel-offer")).to_be_visible(timeout=60_000)
    console.click("#btn-accept")
    expect(phone.locator("#phone-lines")).to_contain_text("the call-taker is on the line",
                                                          timeout=30_000)
    with console.expect_response(lambda r: r.url.endswith("/call/reclassify")) as moved:
        console.click("#btn-reclassify")
    assert moved.value.status == 200, moved.value.text()
    expect(console.locator("#panel-offer")).to_be_visible(timeout=60_000)  # back, as 311
    expect(console.locator("#offer-facts")).to_contain_text("311")
    console.click("#btn-accept")
    expect(console.locator("#state-label")).to_have_text("On call")
    expect(phone.locator("#phone-lines li", has_text="the call-taker is on the line")
           ).to_have_count(2, timeout=30_000)  # a second conference, for the 311 call
    console.select_option("#transfer-center", "county-911")
    with console.expect_response(lambda r: r.url.endswith("/call/transfer")
                                 and r.request.method == "POST") as cold:
        console.click("#btn-transfer-cold")
    assert cold.value.status == 201, cold.value.text()
    expect(console.locator("#state-label")).to_have_text("Wrap-up", timeout=30_000)
    cold_card = inbox.locator(f'li.transfer[data-call="{second_sid}"]')
    expect(cold_card).to_contain_text("COLD")
    _shots(inbox, "dispatch-inbox-cold")

    # The caller's keys, on the emulated phone's keypad (a 311 call from the dispatcher's
    # banner: the first menu is there at any hour), then a hang-up from the phone.
    inbox.select_option("#emulated-line", "311")
    inbox.click("#btn-test-call")
    inbox_phone = inbox.locator("#emulated-phone")
    expect(inbox_phone.locator("#phone-lines")).to_contain_text("Thank you for calling")
    inbox_phone.locator('.phone-key[data-key="1"]').click()
    expect(inbox_phone.locator('#phone-lines li[data-who="pressed"]')).to_have_text(
        re.compile("1"), timeout=60_000)
    _shots(inbox, "emulated-phone-keypad")
    inbox_phone.locator("#btn-phone-hangup").click()
    expect(inbox_phone).to_have_attribute("data-status", "completed", timeout=30_000)

    # Every other page, marked as emulated, at both widths.
    supervisor = _desk(chrome, url, "sam", "/")
    for path, name in [("/console/wallboard", "wallboard"), ("/console/reports", "reports"),
                       ("/console/staffing", "staffing"), ("/console/flows/", "flows"),
                       ("/console/flows/311", "flow-editor"), ("/admin/accounts", "accounts"),
                       ("/console/", "supervisor-console")]:
        supervisor.goto(f"{url}{path}")
        expect(supervisor.locator("#emulated-banner")).to_contain_text("Emulated carrier")
        expect(supervisor.locator("#emulated-line option")).to_have_count(2)  # test calls
        _shots(supervisor, name)
        if name == "wallboard":  # a test call from the wall: it waits in line, shown there
            supervisor.select_option("#emulated-line", "911")
            supervisor.click("#btn-test-call")
            wall_phone = supervisor.locator("#emulated-phone")
            expect(wall_phone.locator("#phone-lines")).to_contain_text("waiting in line")
            _shots(supervisor, "wallboard-test-call")
            wall_phone.locator("#btn-phone-hangup").click()
            expect(wall_phone).to_have_attribute("data-status", "completed", timeout=30_000)
    signed_out = _desk(chrome, url, None, "")
    expect(signed_out.locator("#emulated-banner")).to_contain_text("Emulated carrier")
    expect(signed_out.locator("#emulated-place")).to_be_hidden()  # no test calls signed out
    _shots(signed_out, "sign-in")
    for page in (console, inbox, supervisor, signed_out):
        assert not page.errors, page.errors  # type: ignore[attr-defined]

    assert floor.stop() == []  # SIGTERM: nothing left running
