"""The supervisors' JSON API of recordings and quality review, under ``/api/v1``: a call's
recording streamed through the app (the account's credentials stay on the server, Twilio's URL
never reaches the browser; every play is recorded), the review sample of a period, a review,
and the results as CSV. Supervisors and admins only; a call-taker gets 403."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify, request, stream_with_context

from ivr.accounts.accounts import Account
from ivr.quality import recordings, review
from ivr.quality.config import QualityConfig, RecordingConfig
from ivr.services import Services
from ivr.web.auth import SEES_FLOOR
from ivr.web.errors import ApiError
from ivr.web.floor_queries import asked_day
from ivr.web.kit import api_blueprint, current_services, signed_in

bp = api_blueprint("quality_api")


def quality_config(svc: Services) -> QualityConfig:
    return QualityConfig.from_raw(svc.settings.raw)


def stream_recording(svc: Services, sid: str, account: Account) -> Response:
    """The recording's media, after recording who asked (a refused or failed fetch is still a
    play asked for, so it is recorded first)."""
    with svc.engine.connect() as conn:
        rec = recordings.get(conn, sid)
    if rec is None or rec.status != "completed":
        what = "has been deleted (retention)" if rec is not None and rec.status == "deleted" \
            else "is not available"
        raise ApiError(404, "no_recording", f"the recording {what}")
    recordings.record_play(svc.engine, rec, account.login, svc.clock())
    channels = RecordingConfig.from_raw(svc.settings.raw).channels
    try:
        got = recordings.media(svc.settings, rec.sid, min(channels, rec.channels))
    except recordings.MediaError as exc:
        raise ApiError(exc.status, "recording_unavailable", str(exc)) from None
    headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
    if got.length:
        headers["Content-Length"] = got.length
    return Response(stream_with_context(got.chunks), mimetype=got.content_type, headers=headers)


@bp.get("/recordings/<sid>/media")
@signed_in(*SEES_FLOOR)
def recording_media(account: Account, sid: str) -> Response:
    return stream_recording(current_services(), sid, account)


def period_json(svc: Services, found: review.Period) -> dict[str, Any]:
    config = quality_config(svc)
    return {
        "period": found.start.isoformat(), "days": found.days,
        "sample_percent": config.sample_percent, "always": list(config.always),
        "questions": [{"id": q.id, "text": q.text, "max": q.max} for q in config.questions],
        "results": found.results(),
        "picks": [{"call": p.sid, "agent": p.agent, "reasons": list(p.reasons),
                   "recording": found.recorded.get(p.sid),
                   "reviewed": p.sid in found.reviews} for p in found.picks],
    }


@bp.get("/quality")
@signed_in(*SEES_FLOOR)
def quality_period(account: Account) -> Response:
    svc = current_services()
    found = review.period(svc.engine, quality_config(svc), asked_day(svc),
                          svc.settings.timezone)
    return jsonify(period_json(svc, found))


@bp.post("/quality/reviews")
@signed_in(*SEES_FLOOR)
def add_review(account: Account) -> Any:
    svc = current_services()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("call"), str) \
            or not isinstance(body.get("scores"), dict) \
            or not isinstance(body.get("comment", ""), str):
        raise ApiError(400, "invalid_body",
                       "send {call: sid, scores: {question: score}, comment: text}")
    try:
        done = review.submit(svc.engine, quality_config(svc), svc.settings.timezone,
                             body["call"], account.login, body["scores"],
                             body.get("comment", ""), svc.clock())
    except review.ReviewError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return jsonify(done), 201


@bp.get("/reports/quality.csv")
@signed_in(*SEES_FLOOR)
def quality_csv(account: Account) -> Response:
    svc = current_services()
    day = asked_day(svc)
    found = review.period(svc.engine, quality_config(svc), day, svc.settings.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(review.CSV_HEADER)
    writer.writerows(review.csv_rows([found]))
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="quality-{found.start.isoformat()}.csv"'})
