"""The supervisors' JSON API of the floor's figures: the wallboard (and its live stream, both
with the live calls a supervisor can join: `ivr.connect.monitor`), the
reports of a day (JSON and CSV) and Erlang C staffing, under ``/api/v1`` with the same
sign-in, roles and error format as the console API (`ivr.web.kit`); documented in
openapi/console.yaml. Supervisors and admins only: the figures name call-takers.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, jsonify, stream_with_context
from redis import Redis

from ivr.accounts.accounts import Account
from ivr.connect import monitor
from ivr.floor import reports, wallboard
from ivr.services import Services
from ivr.web.auth import SEES_FLOOR
from ivr.web.floor_queries import asked_day, staffing_of_request
from ivr.web.kit import api_blueprint, current_options, current_services, signed_in
from ivr.web.sse import RETRY_MS, sse

bp = api_blueprint("floor_api")
log = logging.getLogger("ivr.floor_api")

PUSH_SECONDS = 2.0  # the wallboard's clocks (longest wait) move even when nothing happens
SETTLE_SECONDS = 0.3  # a burst of presence changes is pushed as one update


# -- wallboard ----------------------------------------------------------------------------------


def board_now(svc: Services) -> dict[str, Any]:
    """The wallboard with the live calls a supervisor can join (`ivr.connect.monitor`), read
    afresh each time (the figures may come from the short cache; who is on a call may not)."""
    return {**wallboard.snapshot(svc), "live_calls": monitor.live_calls(svc)}


@bp.get("/wallboard")
@signed_in(*SEES_FLOOR)
def wallboard_now(account: Account) -> Response:
    return jsonify(board_now(current_services()))


def board_stream(
    redis: Redis, channel: str, board: Callable[[], dict[str, Any]], *, push_every: float,
    heartbeat: float, lifetime: float, clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """The wallboard as server-sent events named ``wallboard``: one at once, then one at each
    change of the floor (any presence change on the agents' channel, settled for a moment)
    and at least every `push_every` seconds; ends after `lifetime` (the browser reconnects)."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
        yield f"retry: {RETRY_MS}\n\n"
        started = last_push = last_sent = clock()
        yield sse(board(), event="wallboard")
        dirty = False
        while clock() - started < lifetime:
            message = pubsub.get_message(timeout=SETTLE_SECONDS)
            if message is not None and message.get("type") == "message":
                dirty = True
                continue
            now = clock()
            if dirty or now - last_push >= push_every:
                yield sse(board(), event="wallboard")
                last_push = last_sent = clock()
                dirty = False
            elif now - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = now
    finally:
        pubsub.close()


@bp.get("/wallboard/events")
@signed_in(*SEES_FLOOR)
def wallboard_events(account: Account) -> Response:
    svc, options = current_services(), current_options()
    body = board_stream(svc.redis, svc.agents.channel, lambda: board_now(svc),
                        push_every=PUSH_SECONDS, heartbeat=options.events_heartbeat_seconds,
                        lifetime=options.events_lifetime_seconds)
    return Response(stream_with_context(body), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# -- reports ------------------------------------------------------------------------------------


@bp.get("/reports/day")
@signed_in(*SEES_FLOOR)
def report_of_day(account: Account) -> Response:
    svc = current_services()
    return jsonify(wallboard.day_report(svc, asked_day(svc)).as_dict())


COLUMNS = ["offered", "answered", "abandoned", "transfers", "callbacks", "voicemail",
           "missed", "asa_seconds", "average_wait_seconds", "longest_wait_seconds",
           "aht_seconds", "abandon_rate"]


def _cells(figures: dict[str, Any]) -> list[Any]:
    return ["" if figures[c] is None else figures[c] for c in COLUMNS]


def _levels(figures: dict[str, Any]) -> str:
    return "; ".join(f"{s['label']}: {'' if s['value'] is None else s['value']}"
                     for s in figures["service_levels"])


def csv_tables(report: reports.DayReport) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The day's tables (classes, intervals, agents, rollovers) as CSV header and rows."""
    data = report.as_dict()
    classes = [[data["day"], name, *_cells(f), _levels(f)] for name, f in data["classes"].items()]
    intervals = [[i["start"], i["queue_class"], *_cells(i), _levels(i)]
                 for i in data["intervals"]]
    agents = [[data["day"], name, *_cells(f)] for name, f in data["agents"].items()]
    r = data["rollovers"]
    rolled = [[data["day"], "reason", k, n] for k, n in r["by_reason"].items()]
    rolled += [[data["day"], "center", k, n] for k, n in r["by_center"].items()]
    rolled += [[data["day"], "failed", k, n] for k, n in r["failed"].items()]
    rolled += [[data["day"], "total", k, r[k]] for k in (
        "started", "answered", "abandoned", "in_progress", "answer_seconds_mean",
        "answer_seconds_max", "caller_wait_to_answer_seconds_mean")]
    return {
        "classes": (["day", "queue_class", *COLUMNS, "service_levels"], classes),
        "intervals": (["interval_start", "queue_class", *COLUMNS, "service_levels"], intervals),
        "agents": (["day", "agent", *COLUMNS], agents),
        "rollovers": (["day", "group", "name", "value"], rolled),
    }


def _csv(svc: Services, table: str) -> Response:
    day = asked_day(svc)
    header, rows = csv_tables(wallboard.day_report(svc, day))[table]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{table}-{day.isoformat()}.csv"'})


@bp.get("/reports/classes.csv")
@signed_in(*SEES_FLOOR)
def report_classes_csv(account: Account) -> Response:
    return _csv(current_services(), "classes")


@bp.get("/reports/intervals.csv")
@signed_in(*SEES_FLOOR)
def report_intervals_csv(account: Account) -> Response:
    return _csv(current_services(), "intervals")


@bp.get("/reports/agents.csv")
@signed_in(*SEES_FLOOR)
def report_agents_csv(account: Account) -> Response:
    return _csv(current_services(), "agents")


# -- staffing -----------------------------------------------------------------------------------


@bp.get("/staffing")
@signed_in(*SEES_FLOOR)
def staffing_figures(account: Account) -> Response:
    return Response(json.dumps(staffing_of_request().as_dict()), mimetype="application/json")


@bp.get("/reports/rollovers.csv")
@signed_in(*SEES_FLOOR)
def report_rollovers_csv(account: Account) -> Response:
    return _csv(current_services(), "rollovers")
