"""Recordings and quality review in real headless Chromium: a supervisor plays a call's
recording (streamed through the app, the audio element loads and plays it) and fills in the
review form; the period's results and CSV show it; a call-taker is refused the page and the
media."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import select

from ivr.quality.models import Recording, RecordingPlay
from tests.browser import browser_support
from tests.browser.browser_support import Served, new_page, shot
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def _recorded_call(served: Served) -> tuple[str, str, str]:
    """A call taken by a call-taker of its own and recorded; (call sid, agent, recording)."""
    from ivr.sim import answers, hangup, press, wait
    from tests.e2e.floor import Floor

    center = served.center
    agent = f"qa-{uuid.uuid4().hex[:6]}"
    floor = Floor(center)
    floor.login(agent, phone=answers(after=3, hangup_after=40))
    call = center.call([press("1"), press("0"), wait(600), hangup()])
    floor.run(until=120)
    with center.services.sessions() as session:
        rec = session.scalars(select(Recording).filter_by(call_sid=call.sid)).one()
        assert rec.status == "completed"
        return call.sid, agent, rec.sid


def test_a_supervisor_plays_the_recording_and_reviews_the_call(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    sid, agent, rec = _recorded_call(served)
    boss = add_account(svc, roles=("supervisor",))
    browser_support.sign_in(page, served.url, boss, PASSWORD)
    day = svc.clock().date().isoformat()
    page.goto(f"{served.url}/console/quality?day={day}")
    row = page.locator(f'#quality-picks tr[data-call="{sid}"]')
    expect(row).to_contain_text(agent)
    expect(row).to_contain_text("sample")
    expect(row.locator("td").nth(2)).to_have_text("yes")
    row.get_by_role("link", name="Review").click()

    # the recording: the app's own URL, loaded and played by the browser's audio element
    expect(page.locator("#plays summary")).to_have_text("Played 0 times before this page")
    audio = page.locator("#recording")
    assert audio.get_attribute("src") == f"/api/v1/recordings/{rec}/media"
    assert "twilio" not in page.content().lower()
    page.evaluate("document.querySelector('#recording').play()")
    page.wait_for_function(
        "() => { const a = document.querySelector('#recording');"
        " return a.readyState >= 2 && a.duration > 0 && !a.error && a.currentTime > 0; }")
    assert page.evaluate("document.querySelector('#recording').duration") > 1.0
    with svc.sessions() as session:
        actors = session.scalars(select(RecordingPlay.actor).filter_by(recording_sid=rec))
        assert set(actors) == {boss}
    shot(page, "quality-review.png")
    page.reload()
    expect(page.locator("#plays summary")).to_have_text("Played 1 time before this page")
    expect(page.locator("#plays li")).to_contain_text(boss)

    # the review form, through the browser
    inputs = page.locator("#review-form input[type=number]")
    count = inputs.count()
    assert count == 5
    for i in range(count):
        inputs.nth(i).fill("4")
    page.fill("#review-form textarea", "good call")
    page.click("#review-form button[type=submit]")
    expect(page).to_have_url(f"{served.url}/console/quality?day={day}")
    expect(page.locator(f'#quality-picks tr[data-call="{sid}"]')).to_contain_text("80.0 %")
    results = page.locator("#quality-results tr", has_text=agent)
    expect(results).to_contain_text("80.0 %")
    shot(page, "quality-period.png")
    href = page.get_attribute("#quality-csv", "href")
    got = page.request.get(f"{served.url}{href}")
    assert got.status == 200
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(got.text()))}
    assert rows[agent]["reviewed"] == "1" and rows[agent]["average_score"] == "80.0"
    # and the reports page shows the period's results too
    page.goto(f"{served.url}/console/reports?day={day}")
    expect(page.locator("#quality tr", has_text=agent)).to_contain_text("80.0 %")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_call_taker_is_refused_the_recording(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    svc = served.center.services
    sid, _agent, rec = _recorded_call(served)
    taker = add_account(svc, roles=("call-taker",))
    page = new_page(browser)
    try:
        browser_support.sign_in(page, served.url, taker, PASSWORD)
        response = page.goto(f"{served.url}/console/quality/calls/{sid}")
        assert response is not None and response.status == 403
        media = page.request.get(f"{served.url}/api/v1/recordings/{rec}/media")
        assert media.status == 403
        assert media.json()["error"]["code"] == "forbidden"
    finally:
        page.context.close()
    with svc.sessions() as session:
        assert list(session.scalars(select(RecordingPlay).filter_by(recording_sid=rec))) == []
