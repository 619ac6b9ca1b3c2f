"""Who may use each route: the table made from the app's url_map and its decorators.

A view guarded by `ivr.web.auth.require` carries the roles it lets through (``ivr_roles``; an
empty tuple is any signed-in account); a Twilio webhook carries ``ivr_twilio_signed`` (its
signature is checked instead of a role). The few routes open to anyone are named in `PUBLIC`,
each with the reason. A route that is none of these is a route nobody decided about: the test
of this table fails on it (tests/ivr/web/test_routes_table.py), and docs/routes.md is this
table as the test last wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

# endpoint -> who may use it and why that is safe
PUBLIC = {
    "static": "anyone (the consoles' scripts, styles and sounds)",
    "home.page": "anyone (the landing page: links to each role's pages)",
    "home.favicon": "anyone (the center's icon)",
    "healthz": "anyone (a load balancer's health check; says only ok)",
    "console.login": "anyone (the sign-in form)",
    "console.login_post": "anyone (sign-in; CSRF field, throttled per login and address)",
    "console.logout": "anyone (signs the session out; CSRF field)",
    "open311.discovery": "public (Open311 GeoReport v2)",
    "open311.services": "public (Open311 GeoReport v2)",
    "open311.service_definition": "public (Open311 GeoReport v2)",
    "open311.get_requests": "public (Open311 GeoReport v2; no personal data)",
    "open311.get_one_request": "public (Open311 GeoReport v2; no personal data)",
    "open311.get_token": "public (Open311 GeoReport v2)",
    "open311.post_request": "an Open311 API key (open311.api_keys)",
    "open311.unknown": "anyone (answers an Open311 404 or 405)",
}
TWILIO = "Twilio (X-Twilio-Signature checked)"
ANY_ACCOUNT = "any signed-in account"


@dataclass(frozen=True)
class RouteAccess:
    rule: str
    methods: tuple[str, ...]
    endpoint: str
    access: str | None  # None: nobody decided


def route_table(app: Flask) -> list[RouteAccess]:
    rows = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        roles = getattr(view, "ivr_roles", None)
        if getattr(view, "ivr_twilio_signed", False):
            access: str | None = TWILIO
        elif roles is not None:
            access = ", ".join(roles) if roles else ANY_ACCOUNT
            also = getattr(view, "ivr_also", "")
            access += f" {also}" if also else ""
        else:
            access = PUBLIC.get(rule.endpoint)
        rows.append(RouteAccess(rule.rule, methods, rule.endpoint, access))
    return sorted(rows, key=lambda r: (r.rule, r.methods))


def markdown(rows: list[RouteAccess]) -> str:
    lines = ["# Routes and who may use them", "",
             "Made from the app's url_map and its role decorators by "
             "`tests/ivr/web/test_routes_table.py` (run it with `IVR_WRITE_ROUTES=1` to write this "
             "file again); that test fails when a route has no role check, no Twilio signature "
             "check and is not listed as public in `ivr/web/routes_table.py`.", "",
             "| route | methods | who may use it |", "|---|---|---|"]
    for row in rows:
        lines.append(f"| `{row.rule}` | {', '.join(row.methods)} | "
                     f"{row.access or '**nobody decided**'} |")
    return "\n".join(lines) + "\n"
