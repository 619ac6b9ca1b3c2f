"""The call-takers' console in real headless Chromium, against the real app over HTTP.

The app is served on a localhost port (werkzeug, threaded, as gunicorn's gthread would); Twilio
is the emulator, so a resident really dials 311, walks the menu, waits in line, and is bridged
to the call-taker who accepted. Screenshots go to artifacts/ (git-ignored).

Runs on the embedded backend only (the default install); the API tests cover both backends.
"""

from __future__ import annotations

import re
import uuid

import pytest

from ivr.calls import callview
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
    expect(page.locator("#offer-facts")).to_contain_text(  # what the caller chose, in words
        "English (1) › Speak with a call-taker (0)")
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


def test_a_call_taker_files_a_request_during_the_call(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    """The request form: a caller who asked for a person gets a streetlight request made on
    the call; it shows with their earlier request, and the call's record links to it."""
    from datetime import timedelta

    from ivr.platform.db import transaction
    from ivr.service_requests.links import requests_of_call
    from ivr.service_requests.service import create_request

    expect = playwright.expect
    center, svc = served.center, served.center.services
    login = f"ana-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=login, name="Ana Ruiz", skills=("line:311", "lang:en"))
    caller = fresh_number()
    with transaction(svc.sessions) as session:
        earlier = create_request(session, service_code="pothole", address="9 Harford Rd",
                                 attributes={"position": "travel-lane"}, callback_number=caller,
                                 at=svc.clock() - timedelta(days=8), channel="phone").number

    page.goto(f"{served.url}/console/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#conn-status")).to_have_text("Live")
    expect(page.locator("#sr-toggle")).to_be_disabled()  # no call taken yet
    page.click("#btn-available")
    expect(page.locator("#state-label")).to_have_text("Available")

    center.sim.on_dial(f"client:{login}", answers(after=2, hangup_after=900))
    call = center.call(CALL_TAKER_PLEASE, caller=caller)
    for _ in range(120):
        center.sim.advance(1)
        if svc.router.reservations.all():
            break
    else:
        raise AssertionError("the call was never offered")
    expect(page.locator("#panel-offer")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("#state-label")).to_have_text("On call")
    center.sim.advance(5)

    # The drawer follows the call: the caller's earlier request is there, none on this call.
    expect(page.locator("#sr-toggle")).to_be_enabled()
    page.click("#sr-toggle")
    expect(page.locator("#sr-panel")).to_be_visible()
    expect(page.locator("#sr-earlier li")).to_have_count(1)
    expect(page.locator("#sr-earlier")).to_contain_text(earlier)
    expect(page.locator("#sr-linked-empty")).to_be_visible()
    expect(page.locator("#sr-callback")).to_have_value(caller)
    expect(page.locator("#sr-call")).to_have_text(  # the caller, not the raw call id
        re.compile(rf"Call from \+1 \({caller[2:5]}\) {caller[5:8]}-{caller[8:]} at \d\d:\d\d$"))

    # A wrong form is refused with the API's sentence, then fixed.
    page.select_option("#sr-service", "streetlight-out")
    page.fill("#sr-address", "5th Ave and Main St")
    page.click("#sr-create")
    expect(page.locator("#sr-error")).to_contain_text("attribute[problem]: required")
    page.select_option("#sr-q-problem", "flickering")
    page.select_option("#sr-q-how-many", "several")
    page.fill("#sr-q-pole-number", "4471")
    page.fill("#sr-address", "5th Ave and Main St")
    page.fill("#sr-description", "Whole block dark at night")
    page.fill("#sr-note", "Caller says it started Friday")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/requests")) as made:
        page.click("#sr-create")
    assert made.value.status == 201
    number = made.value.json()["request"]["number"]
    expect(page.locator("#sr-error")).to_have_text(f"Request {number} created.")
    expect(page.locator("#sr-linked li")).to_have_count(1)
    expect(page.locator("#sr-linked")).to_contain_text(number)
    expect(page.locator("#sr-linked")).to_contain_text("created")
    expect(page.locator("#sr-count")).to_have_text("1")
    page.locator("#sr-linked").scroll_into_view_if_needed()
    shot(page, "console-service-request.png")

    # Edit corrects it: the place and one answer.
    page.locator(f'#sr-linked li[data-number="{number}"]').get_by_role("button",
                                                                       name="Edit").click()
    expect(page.locator("#sr-form-title")).to_have_text(f"Change {number}")
    expect(page.locator("#sr-q-problem")).to_have_value("flickering")
    expect(page.locator("#sr-address")).to_have_value("5th Ave and Main St")
    page.fill("#sr-address", "5th Ave and Maple St")
    page.select_option("#sr-q-how-many", "one")
    page.click("#sr-create")
    expect(page.locator("#sr-error")).to_have_text(f"Request {number} changed.")
    expect(page.locator("#sr-form-title")).to_have_text("New request")
    expect(page.locator("#sr-linked")).to_contain_text("5th Ave and Maple St")

    # An update on the caller's earlier request, during the call, links it too.
    earlier_item = page.locator(f'#sr-earlier li[data-number="{earlier}"]')
    earlier_item.locator("select").select_option("closed")
    earlier_item.locator("input").fill("Repaired last week")
    earlier_item.get_by_role("button", name="Update").click()
    expect(page.locator("#sr-linked li")).to_have_count(2)
    expect(page.locator(f'#sr-linked li[data-number="{earlier}"]')).to_contain_text("closed")
    expect(page.locator("#message")).to_have_text("")
    page.locator("#sr-linked").scroll_into_view_if_needed()
    shot(page, "console-service-request-updated.png")

    with svc.sessions() as session:
        linked = {r.number: (kinds, r) for r, kinds in requests_of_call(session, call.sid)}
        assert linked[number][0] == ["created", "updated"]
        assert linked[earlier][0] == ["updated"]
        made_request = linked[number][1]
        assert made_request.attributes == {"problem": "flickering", "how-many": "one",
                                           "pole-number": "4471"}
        assert made_request.address == "5th Ave and Maple St"
        assert made_request.callback_number == caller and made_request.channel == "console"
        assert [n.text for n in made_request.notes if n.kind == "note"] == [
            "Caller says it started Friday"]
        assert linked[earlier][1].status == "closed"
    assert page.errors == []  # type: ignore[attr-defined]
