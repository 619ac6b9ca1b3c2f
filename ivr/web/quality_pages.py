"""The supervisors' quality-review pages: the period's sample per call-taker, and one call's
review form with its recording (played through ``/api/v1/recordings/<sid>/media``, never from
Twilio's URL). The form posts with the session's CSRF field. Supervisors and admins only."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from ivr.accounts.accounts import Account
from ivr.calls.models import Call
from ivr.quality import recordings, review
from ivr.web import csrf
from ivr.web.auth import SEES_FLOOR, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.floor_queries import asked_day
from ivr.web.kit import current_services, page_blueprint, refused_page, to_login
from ivr.web.quality_api import quality_config

bp = page_blueprint("quality")
csrf.protect(bp, lambda: refused_page(ApiError(
    403, "csrf_failed", "The form lacks this session's token; reload the page and try again.")))


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    if exc.status == 403 or exc.code == "no_secret_key":
        return refused_page(exc)
    return refused_page(exc, back=url_for("quality.quality_page"))


def supervisor() -> Any:
    return require(*SEES_FLOOR, db=_db, on_missing=to_login)


@bp.get("/console/quality")
@supervisor()
def quality_page(account: Account) -> Any:
    svc = current_services()
    day = asked_day(svc)
    found = review.period(svc.engine, quality_config(svc), day, svc.settings.timezone)
    return render_template("floor/quality.html", account=account, day=day, found=found,
                           config=quality_config(svc), csrf_token=csrf.token())


def _call_and_pick(sid: str) -> tuple[Any, review.Period, Any]:
    svc = current_services()
    with svc.engine.connect() as conn:
        started = conn.execute(select(Call.__table__.c.started_at)
                               .where(Call.__table__.c.sid == sid)).scalar()
    if started is None:
        raise ApiError(404, "no_such_call", "There is no such call.")
    tz = svc.settings.timezone
    found = review.period(svc.engine, quality_config(svc), review.local_date(started, tz), tz)
    pick = next((p for p in found.picks if p.sid == sid), None)
    if pick is None:
        raise ApiError(409, "not_sampled", "This call is not in its period's review sample.")
    return started, found, pick


def _plays(found: review.Period, sid: str) -> list[tuple[str, Any]]:
    rec = found.recorded.get(sid)
    if rec is None:
        return []
    with current_services().engine.connect() as conn:
        return recordings.plays(conn, rec)


@bp.get("/console/quality/calls/<sid>")
@supervisor()
def review_page(account: Account, sid: str) -> Any:
    started, found, pick = _call_and_pick(sid)
    return render_template("floor/review.html", account=account, started=started,
                           found=found, pick=pick, config=quality_config(current_services()),
                           done=found.reviews.get(sid), error="", given={},
                           plays=_plays(found, sid), csrf_token=csrf.token())


@bp.post("/console/quality/calls/<sid>")
@supervisor()
def review_post(account: Account, sid: str) -> Any:
    svc = current_services()
    config = quality_config(svc)
    given = {q.id: request.form.get(f"q-{q.id}", "") for q in config.questions}
    try:
        review.submit(svc.engine, config, svc.settings.timezone, sid, account.login, given,
                      request.form.get("comment", ""), svc.clock())
    except review.ReviewError as exc:
        if exc.status == 404:
            raise ApiError(404, exc.code, exc.message) from None
        started, found, pick = _call_and_pick(sid)
        return render_template("floor/review.html", account=account, started=started,
                               found=found, pick=pick, config=config,
                               done=found.reviews.get(sid), error=exc.message, given=given,
                               plays=_plays(found, sid), csrf_token=csrf.token()), exc.status
    _started, found, _pick = _call_and_pick(sid)
    return redirect(url_for("quality.quality_page", day=found.start.isoformat()))
