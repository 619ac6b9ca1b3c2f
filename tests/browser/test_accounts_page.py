"""The accounts page in real headless Chromium: an admin creates a call-taker, who then signs in;
the admin disables them, and the console is closed to them; an admin signs a call-taker out of
every browser, and their saved cookies open nothing."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.browser.browser_support import Served, shot, sign_in
from tests.ivr.console_support import PASSWORD, add_account

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def session_cookie_over_http(url: str, login: str) -> str:
    """Sign in through the real form with a plain HTTP client (no browser); returns the session
    cookie it was given, as someone who copied it off a shared desk would keep it."""
    with requests.Session() as http:
        form = http.get(f"{url}/console/login", timeout=10)
        found = CSRF_FIELD.search(form.text)
        assert found, form.text
        answer = http.post(f"{url}/console/login", timeout=10, allow_redirects=False,
                           data={"login": login, "password": PASSWORD,
                                 "csrf_token": found.group(1)})
        assert answer.status_code == 302, answer.text
        return http.cookies["ivr_session"]


def me_status(url: str, cookie: str) -> int:
    return requests.get(f"{url}/api/v1/me", cookies={"ivr_session": cookie}, timeout=10).status_code


def test_an_admin_adds_and_disables_a_call_taker(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    admin = add_account(svc, roles=("admin",), name="Pat Admin")
    sign_in(page, served.url, admin, PASSWORD)
    page.goto(f"{served.url}/admin/accounts")
    expect(page.locator(f'tr[data-login="{admin}"]')).to_be_visible()

    login = f"lee-{uuid.uuid4().hex[:6]}"
    page.click("#btn-new")
    # The configured lines and the languages their flows speak are boxes to tick.
    expect(page.locator('#skill-lines input[name="skill"]')).to_have_count(2)  # 311, 911
    expect(page.locator('#skill-languages')).to_contain_text("Spanish (es)")
    expect(page.locator('#skill-lines input[value="line:311"]')).to_be_checked()
    expect(page.locator('#skill-languages input[value="lang:en"]')).to_be_checked()
    expect(page.locator('#editor input[name="password"]')).to_have_attribute(
        "placeholder", "at least 10 characters")  # nothing to keep on a new account
    page.check('#skill-languages input[value="lang:es"]')
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
    page.fill('#editor input[name="skills"]', "lang:ko")
    page.click("#btn-save")
    expect(page.locator("#notice")).to_have_text(f"Created {login}.")
    expect(page.locator("#editor")).to_be_hidden()
    row = page.locator(f'tr[data-login="{login}"]')
    expect(row).to_contain_text("lang:ko")
    expect(row).to_contain_text("lang:es")
    row.get_by_role("button", name="Change").click()  # editing: the password may stay as it is
    expect(page.locator('#editor input[name="password"]')).to_have_attribute(
        "placeholder", "leave empty to keep it")
    expect(page.locator('#skill-languages input[value="lang:es"]')).to_be_checked()
    expect(page.locator('#editor input[name="skills"]')).to_have_value("lang:ko")
    page.click("#btn-cancel")
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
    # Its console, now signed out, goes to the sign-in page by itself at its next 401, which
    # races a sign-in typed into the same page: the call-taker tries again in a new page.
    context = other.context
    other.close()
    other = context.new_page()
    # and signing in again says why it is refused (only to the one who knows the password)
    sign_in(other, served.url, login, PASSWORD)
    expect(other.locator(".signin-message")).to_have_text(
        "This account is disabled. Ask an admin to enable it.")
    shot(other, "signin-disabled.png")
    sign_in(other, served.url, login, "not the password")
    expect(other.locator(".signin-message")).to_have_text("Wrong login or password.")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_call_taker_cannot_open_the_accounts_page(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    login = add_account(served.center.services)
    sign_in(page, served.url, login, PASSWORD)
    answer = page.goto(f"{served.url}/admin/accounts")
    assert answer is not None and answer.status == 403


def test_an_admin_signs_a_call_taker_out_everywhere(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    login = add_account(svc, name="Lee Park")
    saved = session_cookie_over_http(served.url, login)  # one desk: a plain HTTP client
    desk = page.context.browser.new_context().new_page()  # another: a browser of their own
    sign_in(desk, served.url, login, PASSWORD)
    expect(desk).to_have_url(f"{served.url}/console/")
    assert me_status(served.url, saved) == 200

    admin = add_account(svc, roles=("admin",), name="Pat Admin")
    sign_in(page, served.url, admin, PASSWORD)
    page.goto(f"{served.url}/admin/accounts")
    row = page.locator(f'tr[data-login="{login}"]')
    asked: list[str] = []

    def confirm(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    row.get_by_role("button", name="Sign out everywhere").click()
    expect(page.locator("#notice")).to_have_text(
        f"{login} signed out everywhere (2 sessions ended).")
    assert asked == [f"Sign {login} out of every browser? They can sign in again."]
    expect(row).to_contain_text("active")  # signed out, not disabled
    expect(row).not_to_have_class("disabled")
    shot(page, "admin-sign-out-everywhere.png")

    assert me_status(served.url, saved) == 401
    assert desk.context.request.get(f"{served.url}/api/v1/me").status == 401
    # the admin's own session goes on
    assert page.context.request.get(f"{served.url}/api/v1/me").status == 200
    assert page.errors == []  # type: ignore[attr-defined]
    desk.context.close()
