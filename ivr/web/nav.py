"""The pages of the center and who each is for: one list, read by the navigation bar every
page shows (ivr/templates/_nav.html) and by the landing page ``/``, so the two never disagree.

A face that adds a page adds one `Page` to `PAGES`; the bar shows it to the accounts whose roles
may open it (the route's own role check still decides), and the landing page lists it under its
audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from ivr.accounts.accounts import Account
from ivr.web import csrf
from ivr.web.auth import current_account, request_db, secret_key_set
from ivr.web.kit import current_services


@dataclass(frozen=True)
class Page:
    """One page: `endpoint` (Flask's), its `label` in the bar, the `roles` that may open it
    (empty: anyone, signed in or not), its `audience` heading on the landing page and a
    sentence saying what it is for."""

    endpoint: str
    label: str
    roles: tuple[str, ...]
    audience: str
    about: str
    kwargs: tuple[tuple[str, str], ...] = ()
    in_bar: bool = True  # False: on the landing page only

    def url(self) -> str:
        return url_for(self.endpoint, **dict(self.kwargs))

    def open_to(self, account: Account | None) -> bool:
        if not self.roles:
            return True
        return account is not None and account.has_role(*self.roles)


FLOOR = ("supervisor", "admin")

PAGES: tuple[Page, ...] = (
    Page("console.page", "Console", ("call-taker",), "Call-takers",
         "Take calls: go available, accept an offer, hold, note, transfer and wrap up."),
    Page("floor.wallboard_page", "Wallboard", FLOOR, "Supervisors",
         "The floor live: calls waiting, longest wait, service level, who is on what."),
    Page("floor.reports_page", "Reports", FLOOR, "Supervisors",
         "A day's figures by queue class, by call-taker and by interval, with CSV downloads."),
    Page("floor.staffing_page", "Staffing", FLOOR, "Supervisors",
         "How many call-takers a load needs (Erlang C), beside what a day measured."),
    Page("quality.quality_page", "Quality", FLOOR, "Supervisors",
         "Recorded calls to review: a sample of the day, the review form and its results."),
    Page("flows_console.flows_page", "Call flows", FLOOR, "Supervisors",
         "Edit, test and publish what callers hear; storm and closure messages."),
    Page("admin.accounts_page", "Accounts", FLOOR, "Admins",
         "Who may sign in, with which roles, skills and phone."),
    Page("dispatch_inbox.inbox", "Dispatch inbox", ("dispatcher", *FLOOR), "Dispatch centers",
         "Emergency transfers received, with their incident data (EIDO), to acknowledge."),
    Page("open311.discovery", "Open311", (), "Developers and the public",
         "The Open311 GeoReport v2 API of this center: where it is and what it offers.",
         (("fmt", "json"),)),
    Page("open311.services", "Open311 services", (), "Developers and the public",
         "The services a request can be filed for, with their questions.",
         (("fmt", "json"),), in_bar=False),
    Page("open311.get_requests", "Open311 requests", (), "Developers and the public",
         "Service requests and their status (no personal data).",
         (("fmt", "json"),), in_bar=False),
)

AUDIENCES = ("Call-takers", "Supervisors", "Admins", "Dispatch centers",
             "Developers and the public")


def viewer() -> Account | None:
    """The signed-in account, or None (also when sign-in is unavailable)."""
    if not secret_key_set():
        return None
    return current_account(request_db())


def nav_context() -> dict[str, Any]:
    """Template context of every page: ``nav_pages`` (the pages open to the viewer, the
    current one marked), ``nav_account`` and the CSRF token of its sign-out form."""
    account = viewer()
    pages = [{"label": p.label, "url": p.url(), "current": request.endpoint == p.endpoint,
              "id": p.endpoint.replace(".", "-").replace("_", "-")}
             for p in PAGES if p.in_bar and p.open_to(account)]
    return {"nav_pages": pages, "nav_account": account,
            "center_timezone": current_services().settings.timezone,
            "nav_csrf": csrf.token() if account is not None else ""}


def by_audience() -> list[tuple[str, list[Page]]]:
    """The pages grouped under their audience, in `AUDIENCES` order (the landing page)."""
    return [(a, [p for p in PAGES if p.audience == a]) for a in AUDIENCES
            if any(p.audience == a for p in PAGES)]
