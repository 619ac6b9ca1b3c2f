"""The call-takers' console in real headless Chromium, against the real app over HTTP.

The app is served on a localhost port (werkzeug, threaded, as gunicorn's gthread would); Twilio
is the emulator, so a resident really dials 311, walks the menu, waits in line, and is bridged
to the call-taker who accepted. Screenshots go to artifacts/ (git-ignored).

Runs on the embedded backend only (the default install); the API tests cover both backends.
"""

from __future__ import annotations

import uuid

import pytest

from ivr import callview
from ivr.sim import answers, press, wait
from tests.browser.browser_support import Served, shot
from tests.ivr.console_support import PASSWORD, add_account, fresh_number, past_call

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

CALL_TAKER_PLEASE = [press("1"), press("0"), wait(900)]  # English, then a person


def test_a_call_taker_takes_a_call_from_ring_to_wrap_up(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    center, svc = served.center, served.center.services
    login = f"maria-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=login, name="Maria Lopez", skills=("line:311", "lang:en", "lang:es"))
    caller = fresh_number()
    earlier = past_call(svc, caller, days_ago=6)
    with svc.engine.begin() as conn:
        callview.set_disposition(conn, earlier, svc.clock(), "jsmith", "service-request-created",
                                 "Pothole on Harford Rd, SR 26-00412")

    # Sign in through the form.
    page.goto(f"{served.url}/console/")
    expect(page).to_have_url(f"{served.url}/console/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{served.url}/console/")
    expect(page.locator(".who-name")).to_have_text("Maria Lopez")
    expect(page.locator("#conn-status")).to_have_text("Live")  # the event stream is open
    expect(page.locator("#phone-status")).to_have_text("Browser phone unavailable")
    expect(page.locator("#state-label")).to_have_text("Offline")

    page.click("#btn-available")
    expect(page.locator("#state-label")).to_have_text("Available")
    expect(page.locator("#idle-title")).to_have_text("Waiting for a call")

    # A resident dials 311, presses 1 (English) and 0 (a person), and waits in line.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/" in r.url else None)
    center.sim.on_dial(f"client:{login}", answers(after=2, hangup_after=900))
    call = center.call(CALL_TAKER_PLEASE, caller=caller)
    for _ in range(120):
        center.sim.advance(1)
        if svc.router.reservations.all():
            break
    else:
        raise AssertionError("the call was never offered")

    # The offer rings on screen, pushed by the server: the page did not ask for it.
    expect(page.locator("#panel-offer")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-offer-via", "stream")
    assert not [url for url in asked if "/api/v1/offer" in url], asked
    expect(page.locator("#state-label")).to_have_text("Ringing")
    spoken = f"+1 ({caller[2:5]}) {caller[5:8]}-{caller[8:]}"
    expect(page.locator("#offer-caller")).to_have_text(spoken)  # the full number, grouped
    expect(page.locator("#offer-caller")).to_have_attribute("data-number", caller)
    expect(page.locator("#offer-facts")).to_contain_text("main [0] › agent_general")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text("SR 26-00412")
    expect(page.locator("#card")).to_have_class("card ringing")
    countdown = int(page.locator("#offer-countdown").inner_text())
    assert 0 < countdown <= 15
    shot(page, "console-offer.png")

    # A accepts; the emulated phone answers and the caller is bridged.
    with page.expect_response(lambda r: r.url.endswith("/accept")) as accepted:
        page.keyboard.press("a")
    assert accepted.value.status == 200
    expect(page.locator("#state-label")).to_have_text("On call")
    expect(page.locator("#panel-call")).to_be_visible()
    expect(page.locator("#call-caller")).to_have_text(spoken)
    center.sim.advance(5)

    page.keyboard.press("h")
    expect(page.locator("#call-held")).to_be_visible()
    page.click("#btn-resume")
    expect(page.locator("#call-held")).to_be_hidden()

    page.fill("#note-text", "Streetlight out at 5th and Main, pole 4471")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#notes li")).to_have_count(1)
    expect(page.locator("#notes")).to_contain_text("pole 4471")
    expect(page.locator("#message")).to_have_text("")  # no error on the status line
    shot(page, "console.png")

    page.click("#btn-end")
    expect(page.locator("#panel-wrapup")).to_be_visible()
    expect(page.locator("#state-label")).to_have_text("Wrap-up")
    center.sim.advance(3)
    page.locator("body").press("2")  # the second disposition: service request created
    expect(page.locator('input[value="service-request-created"]')).to_be_checked()
    shot(page, "console-wrapup.png")
    page.click("#btn-wrapup")
    expect(page.locator("#state-label")).to_have_text("Available")
    expect(page.locator("#panel-idle")).to_be_visible()
    expect(page.locator("#message")).to_have_text("Wrap-up done.")
    shot(page, "console-available.png")

    with svc.engine.connect() as conn:
        view = callview.describe_call(conn, call.sid, with_history=False)
    assert view["disposition"]["code"] == "service-request-created"
    assert view["disposition"]["by"] == login
    assert [n["text"] for n in view["notes"]] == ["Streetlight out at 5th and Main, pole 4471"]
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_wrong_password_keeps_the_console_closed(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    login = add_account(served.center.services)
    page.goto(f"{served.url}/console/login")
    page.fill("#login", login)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".signin-message")).to_have_text("Wrong login or password.")
    page.goto(f"{served.url}/console/")
    expect(page).to_have_url(f"{served.url}/console/login")
