"""The accounts page in real headless Chromium: an admin creates a call-taker, who then signs in;
the admin disables them, and the console is closed to them."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.browser_support import Served, shot, sign_in
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def test_an_admin_adds_and_disables_a_call_taker(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    admin = add_account(svc, roles=("admin",), name="Pat Admin")
    sign_in(page, served.url, admin, PASSWORD)
    page.goto(f"{served.url}/admin/accounts")
    expect(page.locator(f'tr[data-login="{admin}"]')).to_be_visible()

    login = f"lee-{uuid.uuid4().hex[:6]}"
    page.click("#btn-new")
    page.fill('#editor input[name="login"]', login)
    page.fill('#editor input[name="name"]', "Lee Park")
    page.fill('#editor input[name="skills"]', "line:311 lang:en lang:ko")
    page.fill('#editor input[name="password"]', "short")
    page.click("#btn-save")  # the browser's own check stops a short password
    expect(page.locator("#editor")).to_be_visible()
    page.fill('#editor input[name="skills"]', "line:311 korean")
    page.fill('#editor input[name="password"]', PASSWORD)
    page.click("#btn-save")
    expect(page.locator("#notice")).to_contain_text("skill 'korean'")  # the API's own sentence
    page.fill('#editor input[name="skills"]', "line:311 lang:en lang:ko")
    page.click("#btn-save")
    expect(page.locator("#notice")).to_have_text(f"Created {login}.")
    expect(page.locator("#editor")).to_be_hidden()
    row = page.locator(f'tr[data-login="{login}"]')
    expect(row).to_contain_text("lang:ko")
    expect(row).to_contain_text(f"client:{login}")
    shot(page, "admin-accounts.png")

    # the new call-taker signs in with the password the admin set
    other = page.context.browser.new_context().new_page()
    sign_in(other, served.url, login, PASSWORD)
    expect(other).to_have_url(f"{served.url}/console/")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(page.locator("#notice")).to_have_text(f"{login} disabled.")
    expect(row).to_have_class("disabled")
    # the call-taker's session ended with the account
    assert other.context.request.get(f"{served.url}/api/v1/me").status == 401
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_call_taker_cannot_open_the_accounts_page(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    login = add_account(served.center.services)
    sign_in(page, served.url, login, PASSWORD)
    answer = page.goto(f"{served.url}/admin/accounts")
    assert answer is not None and answer.status == 403
