"""Every route has a decided access rule: a role check, a Twilio signature check, or a place in
the explicit list of public routes; docs/routes.md is the table this test makes."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from ivr.web.routes_table import ANY_ACCOUNT, PUBLIC, TWILIO, markdown, route_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "routes.md"


def test_every_route_has_a_role_check_a_signature_check_or_is_listed_public(app: Flask) -> None:
    rows = route_table(app)
    undecided = [f"{r.rule} {r.methods} ({r.endpoint})" for r in rows if r.access is None]
    assert undecided == [], "routes with no role check: " + "; ".join(undecided)
    assert not set(PUBLIC) - {r.endpoint for r in rows}, "PUBLIC names a route that is gone"
    by_rule = {(r.rule, r.methods): r.access for r in rows}
    assert by_rule[("/voice/incoming", ("POST",))] == TWILIO
    assert by_rule[("/api/v1/accounts/<login>/sign-out", ("POST",))] == "admin"
    assert by_rule[("/api/v1/me", ("GET",))] == ANY_ACCOUNT
    assert by_rule[("/api/v1/flows/<name>/check", ("POST",))] == "supervisor, admin"
    assert by_rule[("/api/v1/presence/available", ("POST",))] == "call-taker"
    # no page or API route under /api or /console is public but sign-in itself
    public_console = {r.endpoint for r in rows if r.rule.startswith(("/api/", "/console"))
                      and r.endpoint in PUBLIC}
    assert public_console == {"console.login", "console.login_post", "console.logout"}


def test_the_route_table_in_docs_is_current(app: Flask) -> None:
    table = markdown(route_table(app))
    if os.environ.get("IVR_WRITE_ROUTES") == "1":
        DOC.write_text(table, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == table, (
        "docs/routes.md is out of date: run this test with IVR_WRITE_ROUTES=1")
