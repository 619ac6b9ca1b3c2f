"""The supervisors' pages of the floor (wallboard, reports, staffing) and ``/metrics``.

The wallboard page is static HTML; its script (ivr/static/floor/wallboard.js) renders what the
live stream ``/api/v1/wallboard/events`` pushes. Reports and staffing are rendered here, charts
as inline SVG (`ivr.floor.charts`), so they need no script at all. Supervisors and admins only.

``/metrics`` is for a Prometheus scraper: it answers a supervisor's session, or a bearer token
equal to ``IVR_METRICS_TOKEN`` from the environment (never from config; without it, sessions
only).
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from flask import (
    Response,
    current_app,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from ivr.accounts.accounts import Account
from ivr.floor import charts, reports, staffing, wallboard
from ivr.quality import review
from ivr.quality.config import QualityConfig
from ivr.services import Services
from ivr.web import csrf
from ivr.web.auth import SEES_FLOOR, current_account, require, secret_key_set
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.floor_queries import asked_day, staffing_of_request
from ivr.web.kit import current_services, page_blueprint, refused_page, to_login

bp = page_blueprint("floor")

METRICS_TOKEN = "IVR_METRICS_TOKEN"


def _read_token(state: Any) -> None:
    state.app.config.setdefault(METRICS_TOKEN, os.environ.get(METRICS_TOKEN) or None)


bp.record_once(_read_token)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    if request.path == "/metrics":
        return Response(f"{exc.message}\n", status=exc.status, mimetype="text/plain")
    if exc.code == "no_secret_key" or exc.status == 403:
        return refused_page(exc)
    return refused_page(exc, back=url_for("floor.reports_page"))



def supervisor() -> Any:
    return require(*SEES_FLOOR, db=_db, on_missing=to_login)


@bp.get("/console/wallboard")
@supervisor()
def wallboard_page(account: Account) -> Any:
    return render_template("floor/wallboard.html", account=account, csrf_token=csrf.token())


def _chart(report: Any, name: str) -> Markup:
    title = f"{name}: {report.day.isoformat()} by {report.config.interval_minutes} minutes"
    # Every text in the SVG is escaped by `charts`: it is markup we made.
    return Markup(charts.day_chart(wallboard.chart_points(report, name), title))  # noqa: S704


@bp.get("/console/reports")
@supervisor()
def reports_page(account: Account) -> Any:
    svc = current_services()
    day = asked_day(svc)
    report = wallboard.day_report(svc, day)
    data = report.as_dict()
    order = [n for n in wallboard.class_order(svc) if n in data["classes"]]
    order += [n for n in data["classes"] if n not in order]
    quality = review.period(svc.engine, QualityConfig.from_raw(svc.settings.raw), day,
                            svc.settings.timezone)
    return render_template("floor/reports.html", account=account, day=day, data=data,
                           order=order, charts={n: _chart(report, n) for n in order},
                           quality=quality, csrf_token=csrf.token())


FIELDS = ("calls", "interval", "aht", "target", "agents", "goal")


@bp.get("/console/staffing")
@supervisor()
def staffing_page(account: Account) -> Any:
    svc = current_services()
    asked = {k: request.args.get(k, "") for k in FIELDS}
    result: staffing.Staffing | None = None
    error = ""
    if any(asked[k] for k in ("calls", "interval", "aht", "target")):
        try:
            result = staffing_of_request()
        except ApiError as exc:
            error = exc.message
    day = asked_day(svc)
    report = wallboard.day_report(svc, day)
    measured = report.as_dict()
    order = [n for n in wallboard.class_order(svc) if n in measured["classes"]]
    predicted = {n: predicted_for(svc, report, n) for n in order}
    return render_template("floor/staffing.html", account=account, asked=asked, result=result,
                           error=error, day=day, measured=measured, order=order,
                           predicted=predicted, csrf_token=csrf.token())


def predicted_for(svc: Services, report: reports.DayReport,
                  name: str) -> dict[str, Any] | None:
    """What Erlang C predicts for one class of a measured day, as if it had its call-takers to
    itself: its calls over the span from its first to its last call, its measured handle
    time, its call-takers on duty on average, its first target. None without enough data."""
    mine = [c for c in report.calls if c.queue_class == name]
    figures = report.classes.get(name)
    targets = report.config.targets_of(name)
    if len(mine) < 2 or figures is None or figures.aht is None or not targets:
        return None
    start, end = mine[0].queued_at, mine[-1].queued_at
    need = svc.agents.rules.class_skills.get(name, frozenset())
    with svc.engine.connect() as conn:
        agents = reports.on_duty_average(conn, start, end, need, svc.settings.center)
    span = (end - start).total_seconds()
    if span <= 0:
        return None
    load = staffing.Load(len(mine), span, figures.aht, targets[0].within)
    result = staffing.for_agents(load, round(agents))
    return {"agents_on_duty": agents, "target": targets[0], "erlang": result,
            "measured_level": figures.service_level(targets[0].within),
            "measured_asa": figures.asa}


# -- /metrics -----------------------------------------------------------------------------------


def _bearer_ok() -> bool:
    wanted = current_app.config.get(METRICS_TOKEN)
    given = request.headers.get("Authorization", "")
    if not wanted or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given[len("Bearer "):].encode(), str(wanted).encode())


@bp.get("/metrics")
def metrics() -> Response:
    """The wallboard's figures in Prometheus' text format."""
    if not _bearer_ok():
        if not secret_key_set():
            raise ApiError(401, "not_signed_in", "send the bearer token IVR_METRICS_TOKEN")
        account = current_account(_db())
        if account is None:
            raise ApiError(401, "not_signed_in",
                           "send the bearer token IVR_METRICS_TOKEN, or sign in")
        if not account.has_role(*SEES_FLOOR):
            raise ApiError(403, "forbidden", "metrics need the role supervisor or admin")
    text = wallboard.prometheus(wallboard.snapshot(current_services()))
    return Response(text, mimetype="text/plain", content_type="text/plain; version=0.0.4; "
                    "charset=utf-8")


# The checks above, as the route table (`ivr.web.routes_table`) shows them.
metrics.ivr_roles = SEES_FLOOR  # type: ignore[attr-defined]
metrics.ivr_also = "or the bearer token IVR_METRICS_TOKEN"  # type: ignore[attr-defined]
