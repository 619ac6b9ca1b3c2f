"""The supervisors' JSON API for call flows and line announcements (openapi/console.yaml).

It is under ``/api/v1`` with the console API's kit (`ivr.web.kit`): the same session sign-in,
the same CSRF token on every POST, the same error shape. Only supervisors and admins may read
or change flows; every refused attempt is answered 403 and written to the flows' audit and the
log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, jsonify, request

from callflows.actions import AppStep, Input
from callflows.errors import FlowError
from callflows.graph import flow_graph
from ivr.accounts.accounts import Account
from ivr.flows import announcements
from ivr.flows.announcements import AnnouncementRefused
from ivr.flows.diagram import render_svg
from ivr.flows.trial import TrialInputError, run_trial
from ivr.flows.versions import (
    MAX_TEXT,
    DraftConflict,
    FlowMissing,
    FlowRefused,
    FlowVersions,
    check_text,
    versions_of,
)
from ivr.platform.clock import local_time
from ivr.services import Services
from ivr.voice import lookups
from ivr.web import kit
from ivr.web.auth import EDITS_FLOWS, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError, error_response
from ivr.web.kit import api_blueprint, current_services

bp = api_blueprint("flows")

WHICH = re.compile(r"live|draft|[0-9]{1,9}")  # the spec's pattern of a version's name
MAX_INT = 2**31 - 1  # revisions and versions are SQL integers


def problems_json(errors: list[FlowError]) -> list[dict[str, Any]]:
    return [{"line": e.line, "message": e.message, "file": e.file} for e in errors]


@bp.errorhandler(FlowMissing)
def _missing(exc: FlowMissing) -> Response:
    return error_response(404, "not_found", str(exc))


@bp.errorhandler(DraftConflict)
def _conflict(exc: DraftConflict) -> Response:
    return error_response(409, "draft_conflict", str(exc), revision=exc.current,
                          saved_by=exc.saved_by, saved_at=exc.saved_at.isoformat())


@bp.errorhandler(FlowRefused)
def _refused(exc: FlowRefused) -> Response:
    if exc.errors:
        return error_response(422, "flow_invalid", str(exc), problems=problems_json(exc.errors))
    return error_response(409, "refused", str(exc))


def edits_flows(action: str) -> Callable[..., Any]:
    """The view runs for supervisors and admins; anyone else signed in is refused, audited."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @require(db=_db)
        @wraps(view)
        def wrapper(*args: Any, account: Account, **kwargs: Any) -> Any:
            if not account.has_role(*EDITS_FLOWS):
                subject = (f"flow:{kwargs['name']}" if "name" in kwargs
                           else f"line:{kwargs.get('line', '-')}")
                versions_of(current_services()).refused(
                    subject, account.login, action,
                    f"needs the role supervisor or admin; has {', '.join(account.roles)}")
                raise ApiError(403, "forbidden",
                               f"only supervisors and admins may {action.replace('-', ' ')}; "
                               f"{account.login} has {', '.join(account.roles)}")
            return view(*args, account=account, **kwargs)

        wrapper.ivr_roles = EDITS_FLOWS  # type: ignore[attr-defined]  # the route table
        return wrapper

    return decorate


def _int(data: dict[str, Any], key: str, required: bool = True, minimum: int = 0) -> int | None:
    """A whole number of a JSON body, as JSON Schema counts them (``3`` and ``3.0`` alike);
    400 naming the field and its range otherwise."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
        raise ApiError(400, "bad_request",
                       f"'{key}' must be a whole number from {minimum} to {MAX_INT}")
    return value


def _flow_text(data: dict[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str):
        raise ApiError(400, "bad_request", "'text' must be the flow's YAML as a string")
    if len(text) > MAX_TEXT:
        raise ApiError(413, "too_large", f"a flow may hold at most {MAX_TEXT} characters")
    return text


def lines_of(svc: Services, name: str) -> list[str]:
    return sorted(line.name for line in svc.settings.lines.values() if line.flow == name)


def _which(value: str) -> str | int:
    """`live`, `draft` or a version number, exactly as the spec writes them (no other digits
    than 0-9, at most 9 of them); else 400 naming the value."""
    if not WHICH.fullmatch(value):
        raise ApiError(400, "bad_request", f"{value[:40]!r} is not a version: give a number, "
                                           "'live' or 'draft'")
    return value if value in ("draft", "live") else int(value)


def _ready(svc: Services) -> FlowVersions:
    versions = versions_of(svc)
    versions.ensure_shipped()
    return versions


# -- flows ------------------------------------------------------------------------------------

@bp.get("/flows")
@edits_flows("read-flows")
def list_flows(account: Account) -> Response:
    svc = current_services()
    versions = _ready(svc)
    found = []
    for name in versions.names():
        draft = versions.draft(name)
        _, problems = check_text(name, draft.text)
        live_text = versions.text_of(name, "live")[1] if draft.live_version else None
        found.append({"flow": name, "lines": lines_of(svc, name),
                      "live_version": draft.live_version, "draft_revision": draft.revision,
                      "draft_saved_by": draft.saved_by,
                      "draft_saved_at": draft.saved_at.isoformat(),
                      "draft_problems": len(problems),
                      "draft_differs": live_text is None or live_text != draft.text})
    return jsonify(flows=found)


@bp.get("/flows/<name>")
@edits_flows("read-flows")
def get_flow(name: str, account: Account) -> Response:
    svc = current_services()
    versions = _ready(svc)
    draft = versions.draft(name)
    _, problems = check_text(name, draft.text)
    return jsonify(draft=draft.to_dict(), problems=problems_json(problems),
                   lines=lines_of(svc, name),
                   versions=[v.to_dict() for v in versions.versions(name)])


@bp.post("/flows/<name>/draft")
@edits_flows("edit-flows")
def save_draft(name: str, account: Account) -> Response:
    data = kit.body(required=True)
    text, revision = _flow_text(data), _int(data, "revision")
    saved = _ready(current_services()).save_draft(name, text, revision or 0, account.login)
    return jsonify(revision=saved.revision, problems=problems_json(saved.problems),
                   unchanged=saved.unchanged)


@bp.post("/flows/<name>/check")
@edits_flows("edit-flows")
def check_flow(name: str, account: Account) -> Response:
    flow, problems = check_text(name, _flow_text(kit.body(required=True)))
    return jsonify(problems=problems_json(problems),
                   graph=flow_graph(flow).to_dict() if flow is not None else None)


def _flow_of(svc: Services, name: str, which: str | int) -> Any:
    label, text = _ready(svc).text_of(name, which)
    flow, problems = check_text(name, text)
    if flow is None:
        raise ApiError(422, "flow_invalid", f"the {label} of flow '{name}' has "
                       f"{len(problems)} problem(s): fix them to see it",
                       problems=problems_json(problems))
    return flow


@bp.get("/flows/<name>/graph")
@edits_flows("read-flows")
def graph(name: str, account: Account) -> Response:
    flow = _flow_of(current_services(), name, _which(request.args.get("version", "draft")))
    return jsonify(flow_graph(flow).to_dict())


@bp.get("/flows/<name>/diagram")
@edits_flows("read-flows")
def diagram(name: str, account: Account) -> Response:
    which = _which(request.args.get("version", "draft"))
    embed = request.args.get("embed", "0")
    if embed not in ("0", "1"):
        raise ApiError(400, "bad_request", f"embed is 0 or 1, not {embed[:20]!r}")
    flow = _flow_of(current_services(), name, which)
    svg = render_svg(flow_graph(flow), title=f"flow {name}, {which}", standalone=embed == "0")
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/flows/<name>/versions")
@edits_flows("read-flows")
def list_versions(name: str, account: Account) -> Response:
    versions = _ready(current_services())
    return jsonify(versions=[v.to_dict() for v in versions.versions(name)])


@bp.get("/flows/<name>/versions/<int(min=1, max=2147483647):version>")  # SQL integer
@edits_flows("read-flows")
def get_version(name: str, version: int, account: Account) -> Response:
    label, text = _ready(current_services()).text_of(name, version)
    return jsonify(flow=name, version=version, label=label, text=text)


@bp.get("/flows/<name>/diff")
@edits_flows("read-flows")
def diff(name: str, account: Account) -> Response:
    old = _which(request.args.get("from", "live"))
    new = _which(request.args.get("to", "draft"))
    return jsonify(_ready(current_services()).diff(name, old, new).to_dict())


@bp.post("/flows/<name>/publish")
@edits_flows("publish-flows")
def publish(name: str, account: Account) -> Response:
    data = kit.body(required=True)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise ApiError(400, "bad_request", "'note' must be a string of at most 500 characters")
    version = _ready(current_services()).publish(name, account.login,
                                                 revision=_int(data, "revision"), note=note)
    return jsonify(flow=name, live_version=version)


@bp.post("/flows/<name>/rollback")
@edits_flows("publish-flows")
def rollback(name: str, account: Account) -> Response:
    to = _int(kit.body(required=True), "version", required=False, minimum=1)
    live = _ready(current_services()).rollback(name, account.login, to=to)
    return jsonify(flow=name, live_version=live)


@bp.post("/flows/<name>/trial")
@edits_flows("edit-flows")
def trial(name: str, account: Account) -> Response:
    """One emulated call of the draft (or a version), answered with `answers` in order."""
    svc = current_services()
    data = kit.body(required=True)
    answers = data.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ApiError(400, "bad_request", "'answers' must be a list of strings")
    which = _which(str(data.get("version", "draft")))
    at = svc.clock()
    if data.get("at"):
        try:
            at = local_time(str(data["at"]), svc.settings.timezone)
        except (ValueError, OverflowError):
            raise ApiError(400, "bad_request", "'at' must be a time like 2026-11-23T10:00 (the "
                                               "center's local time) or with its offset") from None
    flow = _flow_of(svc, name, which)
    line = next(iter(lines_of(svc, name)), name)
    extra = announcements.call_vars(svc, line) if data.get("announcement", True) else {}
    try:
        result = run_trial(flow, answers, at, {"line": line, "dialed": line, **extra},
                           lookup=lambda action: _trial_lookup(svc, action))
    except TrialInputError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return jsonify(result.to_dict())


def _trial_lookup(svc: Services, action: AppStep) -> Input:
    """A trial's lookup: the app's real answer, in a transaction rolled back (nothing kept)."""
    with svc.engine.connect() as conn:
        trans = conn.begin()
        try:
            return lookups.answer(svc, None, action, conn).input
        finally:
            trans.rollback()


@bp.get("/flows/<name>/audit")
@edits_flows("read-flows")
def flow_audit(name: str, account: Account) -> Response:
    versions = _ready(current_services())
    versions.draft(name)  # 404 for an unknown flow
    return jsonify(entries=versions.audit(f"flow:{name}"))


# -- storm and closure announcements ---------------------------------------------------------

def _announcement_rows(svc: Services) -> list[dict[str, Any]]:
    current = announcements.of(svc).current()
    rows = []
    for line in sorted(svc.settings.lines):
        spec = svc.settings.lines[line]
        try:
            flow, _ = svc.flows.live(spec.flow)
            speaks, languages = announcements.reads_announcement(flow), dict(flow.languages)
        except LookupError:
            speaks, languages = False, {}
        on = current.get(line)
        rows.append({"line": line, "flow": spec.flow, "speaks": speaks, "languages": languages,
                     "on": on is not None, "text": on.text if on else {},
                     "set_by": on.set_by if on else None,
                     "set_at": on.set_at.isoformat() if on else None})
    return rows


@bp.get("/announcements")
@edits_flows("read-announcements")
def list_announcements(account: Account) -> Response:
    return jsonify(lines=_announcement_rows(current_services()))


@bp.post("/announcements/<line>")
@edits_flows("switch-announcements")
def switch_announcement(line: str, account: Account) -> Response:
    svc = current_services()
    spec = svc.settings.lines.get(line)
    if spec is None:
        raise ApiError(404, "not_found", f"there is no line '{line}'")
    data = kit.body(required=True)
    on = data.get("on")
    if not isinstance(on, bool):
        raise ApiError(400, "bad_request", "'on' must be true or false")
    board = announcements.of(svc)
    if on:
        text = data.get("text")
        if not isinstance(text, dict):
            raise ApiError(400, "bad_request", "'text' must map language keys to the message, "
                                               "like {\"en\": \"...\", \"es\": \"...\"}")
        flow, _ = svc.flows.live(spec.flow)
        try:
            board.switch_on(line, flow, text, account.login)
        except AnnouncementRefused as exc:
            raise ApiError(422, "announcement_refused", str(exc)) from None
    else:
        board.switch_off(line, account.login)
    row = next(r for r in _announcement_rows(svc) if r["line"] == line)
    return jsonify(row)


@bp.get("/announcements/<line>/audit")
@edits_flows("read-announcements")
def announcement_audit(line: str, account: Account) -> Response:
    svc = current_services()
    if line not in svc.settings.lines:
        raise ApiError(404, "not_found", f"there is no line '{line}'")
    return jsonify(entries=versions_of(svc).audit(f"line:{line}"))
