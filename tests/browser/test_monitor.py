"""A supervisor listens to a live call from the wallboard, then coaches the call-taker, in real
headless Chromium; the call-taker's console shows who is on the call and how they are heard.
The app is served over HTTP; Twilio (and the supervisor's phone) is the emulator, which says
who hears whom. Screenshots go to artifacts/.
"""

from __future__ import annotations

import uuid

import pytest

from ivr.sim import answers, press, wait
from tests.browser.browser_support import Served, new_page, shot, sign_in
from tests.ivr.console_support import PASSWORD, add_account, fresh_number

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def test_supervisor_listens_then_coaches_and_the_call_taker_sees_it(  # type: ignore[no-untyped-def]
        served: Served, browser) -> None:
    expect = playwright.expect
    center, url = served.center, served.url
    svc, sim = center.services, center.sim  # type: ignore[attr-defined]
    taker = f"maria-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=taker, name="Maria Lopez")
    boss = f"sam-{uuid.uuid4().hex[:6]}"
    add_account(svc, login=boss, name="Sam Okafor", roles=("supervisor",), skills=())

    console = new_page(browser)
    sign_in(console, url, taker, PASSWORD)
    expect(console).to_have_url(f"{url}/console/")
    console.click("#btn-available")
    expect(console.locator("#state-label")).to_have_text("Available")

    # A resident dials 311 and asks for a person; the call-taker accepts; both are bridged.
    sim.on_dial(f"client:{taker}", answers(after=2, hangup_after=900))
    sim.on_dial(f"client:{boss}", answers(after=2, hangup_after=900))
    call = center.call([press("1"), press("0"), wait(900)], caller=fresh_number())  # type: ignore[attr-defined]
    for _ in range(120):
        sim.advance(1)
        if svc.router.reservations.all():
            break
    expect(console.locator("#panel-offer")).to_be_visible()
    console.click("#btn-accept")
    expect(console.locator("#state-label")).to_have_text("On call")
    for _ in range(30):
        sim.advance(1)
        link = svc.links.for_call(call.sid)
        if link is not None and link.bridged:
            break
    agent_leg = svc.links.for_call(call.sid).agent_leg

    wallboard = new_page(browser)
    sign_in(wallboard, url, boss, PASSWORD)
    wallboard.goto(f"{url}/console/wallboard")
    expect(wallboard.locator("#board-status")).to_have_text("Live")
    row = wallboard.locator(f'#live-calls-rows tr[data-call="{call.sid}"]')
    expect(row).to_be_visible(timeout=30_000)  # the board's next refresh, on a loaded machine
    expect(row).to_have_attribute("data-agent", taker)
    expect(console.locator("#call-supervisor")).to_be_hidden()

    # Listen: the supervisor's phone rings, answers, joins muted.
    with wallboard.expect_response(lambda r: r.url.endswith("/monitor")) as asked:
        row.locator('button[data-mode="listen"]').click()
    assert asked.value.status == 201, asked.value.json()
    expect(wallboard.locator("#monitor-mine")).to_have_text("Your phone is ringing…")
    sim.advance(3)
    expect(wallboard.locator("#monitor-mine")).to_have_text("You are listening (nobody hears you)")
    expect(row.locator("td.supervisor")).to_have_text("Sam Okafor · listen")
    expect(console.locator("#call-supervisor")).to_have_text("Sam Okafor (supervisor) is listening")
    sup_leg = svc.redis.hget(f"ivr:{{{svc.settings.center}}}:monitor:{call.sid}", "leg")
    conf = sim.calls[call.sid].participant.conference
    assert conf.audience(sup_leg) == set()
    assert conf.hears(sup_leg, call.sid) and conf.hears(sup_leg, agent_leg)
    shot(wallboard, "monitor-wallboard-listening.png")

    # Coach: only the call-taker hears the supervisor; the console says so.
    with wallboard.expect_response(lambda r: r.url.endswith("/monitor")) as switched:
        row.locator('button[data-mode="coach"]').click()
    assert switched.value.status == 200, switched.value.json()
    expect(wallboard.locator("#monitor-mine")).to_have_text(
        "You are coaching (only the call-taker hears you)")
    expect(row.locator('button[data-mode="coach"]')).to_have_attribute("aria-pressed", "true")
    expect(console.locator("#call-supervisor")).to_have_text(
        "Sam Okafor (supervisor) is coaching you: only you hear them")
    expect(console.locator("#call-supervisor")).to_have_attribute("data-mode", "coach")
    assert conf.audience(sup_leg) == {agent_leg}
    shot(wallboard, "monitor-wallboard-coaching.png")
    shot(console, "monitor-console-coached.png")

    # Leave: the console no longer shows a supervisor.
    row.locator('button[data-mode="leave"]').click()
    expect(wallboard.locator("#monitor-mine")).to_be_hidden()
    sim.advance(2)
    expect(console.locator("#call-supervisor")).to_be_hidden()
    assert sim.calls[sup_leg].status == "completed"
    assert not console.errors and not wallboard.errors  # type: ignore[attr-defined]
