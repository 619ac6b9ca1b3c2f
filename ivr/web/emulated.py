"""The emulated phone of `ivr serve --emulate`: test calls, and the caller's side as text.

Under ``--emulate`` the carrier is the offline Twilio (`ivr.demo.carrier`), and its small API
can place a call and play the caller. These routes pass a signed-in person's requests on to
it (with the carrier's key, which never reaches the browser): place a test call on a line,
read what the caller hears and says, press keys or speak for them, hang up. Without
``--emulate`` every route answers 404 ``not_emulated``.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from flask import Response, jsonify

from ivr.accounts.accounts import Account
from ivr.web import kit
from ivr.web.auth import SEES_FLOOR, TAKES_CALLS
from ivr.web.errors import ApiError
from ivr.web.kit import api_blueprint, current_services, signed_in

bp = api_blueprint("emulated_api")

PLAYERS = (*TAKES_CALLS, "dispatcher", *SEES_FLOOR)
TIMEOUT = 5.0


def _carrier(method: str, path: str, body: dict[str, Any] | None = None) -> Response:
    """One request to the carrier's API; its refusal (400/404) is passed on as ours."""
    settings = current_services().settings
    if not settings.emulator_url:
        raise ApiError(404, "not_emulated", "this server runs on a real carrier, not the "
                       "emulator (start it with `ivr serve --emulate`)")
    key = os.environ.get("IVR_EMULATOR_KEY", "")  # the serving process tree's own
    try:
        answer = requests.request(method, f"{settings.emulator_url}/emulator{path}", json=body,
                                  headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT)
        data = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise ApiError(502, "carrier_unreachable",
                       "the emulated carrier does not answer; is `ivr serve --emulate` "
                       "still running?") from exc
    if answer.status_code >= 400:
        code = "no_such_call" if answer.status_code == 404 else "refused"
        raise ApiError(answer.status_code if answer.status_code in (400, 404) else 502, code,
                       str(data.get("error") or "the emulated carrier refused"))
    return jsonify(data)


@bp.get("/emulator")
@signed_in(*PLAYERS)
def lines(account: Account) -> Response:
    """The lines a test call can dial."""
    return _carrier("GET", "")


@bp.post("/emulator/calls")
@signed_in(*PLAYERS)
def place(account: Account) -> tuple[Response, int]:
    """A test call: an emulated resident dials `line` (default the center's default line)."""
    data = kit.body()
    line = kit.text(data, "line", 16, required=False) or \
        current_services().settings.default_line
    caller = kit.text(data, "from", 16, required=False) or None
    body = {"line": line, **({"from": caller} if caller else {})}
    return _carrier("POST", "/calls", body), 201


@bp.get("/emulator/calls/<sid>")
@signed_in(*PLAYERS)
def caller_side(account: Account, sid: str) -> Response:
    """What the caller of `sid` heard, pressed and said, and whether a menu is listening."""
    return _carrier("GET", f"/calls/{_sid(sid)}")


@bp.post("/emulator/calls/<sid>/input")
@signed_in(*PLAYERS)
def caller_input(account: Account, sid: str) -> Response:
    """The caller presses ``keys``, says ``say`` or hangs up (``hangup: true``)."""
    data = kit.body()
    body = {"keys": kit.text(data, "keys", 64, required=False),
            "say": kit.text(data, "say", 500, required=False),
            "hangup": bool(data.get("hangup"))}
    return _carrier("POST", f"/calls/{_sid(sid)}/input", body)


def _sid(sid: str) -> str:
    if not (sid.startswith("CA") and sid[2:].isalnum() and len(sid) <= 64):
        raise ApiError(404, "no_such_call", f"no call {sid}")
    return sid
