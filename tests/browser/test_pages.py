"""Pages a person can find: the landing page links each role to its pages, every page shows the
same bar of the pages open to the one signed in, and every page has the center's icon.
Real headless Chromium against the real app."""

from __future__ import annotations

import pytest
import requests

from tests.browser.browser_support import Served, shot, sign_in
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

SUPERVISOR_PAGES = {  # the bar's links an admin and supervisor sees, in order
    "Wallboard": "/console/wallboard", "Reports": "/console/reports",
    "Staffing": "/console/staffing", "Quality": "/console/quality",
    "Call flows": "/console/flows/",
    "Accounts": "/admin/accounts", "Dispatch inbox": "/dispatch/",
    "Open311": "/open311/v2/discovery.json",
}


def bar(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    links = page.locator(".site-links a")
    return {links.nth(i).inner_text(): links.nth(i).get_attribute("href")
            for i in range(links.count())}


def test_the_landing_page_links_every_role_to_its_pages(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    page.goto(f"{served.url}/")
    expect(page.locator("h1")).to_have_text("City 311 and 911 contact center")
    for audience in ("Call-takers", "Supervisors", "Admins", "Dispatch centers",
                     "Developers and the public"):
        expect(page.locator(".home-group h2", has_text=audience)).to_be_visible()
    expect(page.locator(".home-group a", has_text="Console")).to_have_attribute("href", "/console/")
    expect(page.locator(".home-group a", has_text="Wallboard")).to_have_attribute(
        "href", "/console/wallboard")
    expect(page.locator(".site-who a")).to_have_text("Sign in")  # nobody is signed in
    assert bar(page) == {"Open311": "/open311/v2/discovery.json"}
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert requests.get(f"{served.url}{icon}", timeout=10).headers["Content-Type"].startswith(
        "image/svg+xml")
    shot(page, "landing-signed-out.png")
    ico = requests.get(f"{served.url}/favicon.ico", timeout=10)  # pages that name no icon
    assert ico.status_code == 200 and ico.headers["Content-Type"].startswith("image/svg+xml")

    # Following a link asks for sign-in first, then the page is one click away.
    page.locator(".home-group a", has_text="Wallboard").click()
    expect(page).to_have_url(f"{served.url}/console/login")
    assert page.errors == []  # type: ignore[attr-defined]


def test_every_page_shows_the_same_bar_of_the_pages_one_may_open(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    boss = add_account(svc, roles=("supervisor", "admin"), name="Sam Boss")
    sign_in(page, served.url, boss, PASSWORD)
    expect(page).to_have_url(f"{served.url}/")  # not a call-taker: lands on the list of pages
    for path in ("/", "/console/wallboard", "/console/reports", "/console/staffing",
                 "/console/flows/", "/console/flows/311", "/admin/accounts", "/dispatch/",
                 "/console/"):
        page.goto(f"{served.url}{path}")
        expect(page.locator(".site-nav")).to_be_visible()
        assert bar(page) == SUPERVISOR_PAGES, path
        expect(page.locator(".site-who")).to_contain_text(boss)
        assert page.locator('link[rel="icon"]').count() == 1, path
        current = page.locator('.site-links a[aria-current="page"]')
        if path in SUPERVISOR_PAGES.values():
            expect(current).to_have_attribute("href", path)
        # The bar stays one line and the page no wider than the screen.
        assert page.locator(".site-nav").bounding_box()["height"] < 50, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 1440, path
    assert page.errors == []  # type: ignore[attr-defined]

    # A call-taker's bar holds their console (and the public API) only.
    tab = page.context.browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    taker = add_account(svc, name="Tia Taker")
    sign_in(tab, served.url, taker, PASSWORD)
    expect(tab).to_have_url(f"{served.url}/console/")
    assert bar(tab) == {"Console": "/console/", "Open311": "/open311/v2/discovery.json"}
    expect(tab.locator(".site-signout")).to_have_count(0)  # the console's own sign-out is kept
    expect(tab.locator("#btn-signout")).to_be_visible()
    tab.goto(f"{served.url}/")
    expect(tab.locator(".home-group .locked").first).to_be_visible()  # others' pages, marked
    # Signing out from the bar of any page.
    tab.locator(".site-signout button").click()
    expect(tab).to_have_url(f"{served.url}/console/login?out=1")
    tab.context.close()
