"""A supervisor on a live call: listening (muted), coaching the call-taker (heard by the
call-taker alone: Twilio's ``Coaching``/``CallSidToCoach``), or barging in (heard by all).

The supervisor's audio is one more participant of the call's conference, rung by REST
(`TwilioTelephony.add_listener`) at the contact of their account, the same field that says
where a call-taker's calls ring: ``client:<identity>`` is the browser phone (Twilio's Voice SDK
on the wallboard page), a number is a desk or mobile phone. Switching mode is one update of
that participant (`set_listening`); leaving hangs their leg up. Their leg's status callbacks
(``/voice/agent/leg-status?leg=supervisor``) and the conference's ``participant-join``/
``-leave`` events say when they are really on the call and when they are gone (the call ended,
they hung up, their phone did not answer).

One supervisor a call and one call a supervisor, claimed in Redis (`_CLAIM`), so two clicks
never ring two phones. Every start, mode change, leave and end is written to the audit log
(`ivr.floor.auditlog`), subject ``call:<CallSid>``, and announced on the agents' event channel
as ``{"event": "supervisor", "agent": <call-taker>, ...}``, so the call-taker's console shows at
once who is on their call and how they are heard.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from agents import AgentError, TelephonyError
from agents.model import State
from ivr.calls.links import Link
from ivr.floor import auditlog
from ivr.services import Services
from ivr.telephony.adapter import url

log = logging.getLogger("ivr.monitor")

MODES = ("listen", "coach", "barge")
MONITOR_TTL = 6 * 3600  # a claim outlives no call (a lost callback cannot pin it for good)
CLAIM_WITHOUT_LEG = 60.0  # seconds a claim may wait for its leg to be placed
ENDED_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")

# Claim the call for this supervisor and this supervisor for the call, both or neither.
_CLAIM = """
local call_owner = redis.call('HGET', KEYS[1], 'supervisor')
if call_owner and call_owner ~= ARGV[1] then return {'call', call_owner} end
local mine = redis.call('GET', KEYS[2])
if mine and mine ~= ARGV[2] then return {'supervisor', mine} end
if call_owner then return {'already'} end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return {'ok'}
"""

# Forget the claim, only if this leg (or a claim still without one) is the one there.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'supervisor') ~= ARGV[1] then return 0 end
local leg = redis.call('HGET', KEYS[1], 'leg')
if ARGV[2] ~= '' and leg and leg ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""


# Mark the claim joined, once, if it is still there (a release meanwhile leaves nothing).
_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'joined', '1') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'joined')
return 1
"""


class MonitorRefused(AgentError):
    """What a supervisor asked cannot be done now; `code` is the API's error code."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class Monitoring:
    """A supervisor on (or being rung into) a call."""

    call: str
    supervisor: str
    name: str
    mode: str
    agent: str
    status: str  # "ringing" until their leg is in the conference, then "joined"
    since: float
    leg: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def hearing(mode: str, agent_leg: str) -> tuple[bool, str | None]:
    """(muted, leg coached) of a mode: listen is muted, coach is heard by the call-taker's leg
    alone, barge by everyone."""
    if mode == "listen":
        return True, None
    if mode == "coach":
        return False, agent_leg
    return False, None


def _key(svc: Services, call_id: str) -> str:
    return f"ivr:{{{svc.settings.center}}}:monitor:{call_id}"


def _by_key(svc: Services, login: str) -> str:
    return f"ivr:{{{svc.settings.center}}}:monitor-by:{login}"


def current(svc: Services, call_id: str) -> Monitoring | None:
    """The supervisor on `call_id`, if any."""
    raw: dict[str, Any] = svc.redis.hgetall(_key(svc, call_id))  # type: ignore[assignment]
    if not raw or "mode" not in raw:
        return None
    return Monitoring(call=call_id, supervisor=raw["supervisor"], name=raw.get("name", ""),
                      mode=raw["mode"], agent=raw.get("agent", ""),
                      status=raw.get("status", "ringing"), since=float(raw.get("since", 0)),
                      leg=raw.get("leg") or None)


def mine(svc: Services, login: str) -> Monitoring | None:
    """The call the supervisor `login` is on, if any."""
    call_id = svc.redis.get(_by_key(svc, login))
    return current(svc, str(call_id)) if call_id else None


def _live_link(svc: Services, call_id: str) -> Link:
    link = svc.links.for_call(call_id)
    if link is None or link.closed or not link.bridged:
        raise MonitorRefused("not_connected", f"call {call_id} is not connected to a call-taker")
    if not link.agent_leg:
        raise MonitorRefused("not_connected", f"call {call_id}: the call-taker's leg is unknown")
    return link


def start(svc: Services, call_id: str, login: str, name: str, contact: str, mode: str,
          now: float) -> tuple[Monitoring, bool]:
    """Put the supervisor `login` on the call in `mode`, or switch their mode if they are on it
    already. Returns the monitoring and whether it was started (rather than switched)."""
    if mode not in MODES:
        raise MonitorRefused("bad_mode", f"mode must be one of {', '.join(MODES)}", 400)
    link = _live_link(svc, call_id)
    if not contact:
        raise MonitorRefused("no_phone", f"{login} has no contact to ring: set one on the "
                             "account (client:<identity> or a phone number)")
    tel = svc.telephony
    conference = link.conference_sid or tel.conference_sid(call_id)
    if conference is None:
        raise MonitorRefused("not_connected", f"call {call_id} is not in a conference any more")
    fields = {"supervisor": login, "name": name, "mode": mode, "agent": link.agent_id,
              "status": "ringing", "since": repr(now), "conference": conference}
    outcome = _claim(svc, call_id, login, fields)
    if outcome[0] in ("call", "supervisor") and _drop_stale(svc, outcome, call_id, now):
        outcome = _claim(svc, call_id, login, fields)
    if outcome[0] == "call":
        raise MonitorRefused("monitored", f"{outcome[1]} is already on call {call_id}")
    if outcome[0] == "supervisor":
        raise MonitorRefused("busy", f"you are on call {outcome[1]}: leave it first")
    if outcome[0] == "already":
        return switch(svc, call_id, login, mode, now), False
    muted, coach = hearing(mode, link.agent_leg or "")
    status_url = url(svc.settings, "leg-status", resv=link.reservation_id, leg="supervisor")
    try:
        leg = tel.add_listener(conference, contact, tel.caller_id(link.entry.data.get("line")),
                               label=f"supervisor-{login}"[:64], muted=muted, coach=coach,
                               timeout=tel.config.agent_ring_seconds,
                               status_callback=status_url)
    except TelephonyError:
        svc.redis.eval(_RELEASE, 2, _key(svc, call_id), _by_key(svc, login), login, "", call_id)
        raise
    svc.redis.hset(_key(svc, call_id), "leg", leg)
    watching = current(svc, call_id)
    assert watching is not None
    _audit(svc, watching, "monitor-start", now, {"mode": mode})
    _announce(svc, watching)
    return watching, True


def _claim(svc: Services, call_id: str, login: str, fields: Mapping[str, str]) -> list[str]:
    flat = [x for pair in fields.items() for x in pair]
    claimed = svc.redis.eval(_CLAIM, 2, _key(svc, call_id), _by_key(svc, login), login,
                             call_id, MONITOR_TTL, *flat)
    return [str(x) for x in claimed]  # type: ignore[union-attr]


def _drop_stale(svc: Services, refused: list[str], call_id: str, now: float) -> bool:
    """A claim in the way that is over (its supervisor's leg ended at Twilio and the final
    callback was lost; or a claim that never got a leg, from a process that died between
    claiming and ringing) is ended now. True when one was (or it was released meanwhile)."""
    in_way = current(svc, call_id) if refused[0] == "call" else current(svc, refused[1])
    if in_way is None:
        return True
    if in_way.leg:
        ended = svc.telephony.ended(in_way.leg)
        if ended is None:
            return False
        why = ended.status
    elif now - in_way.since < CLAIM_WITHOUT_LEG:
        return False  # another request is ringing that phone now
    else:
        why = "never rung"
    _end(svc, in_way, "monitor-ended", now, {"mode": in_way.mode, "why": "found over",
                                             "leg_status": why})
    return True


def switch(svc: Services, call_id: str, login: str, mode: str, now: float) -> Monitoring:
    """Change how the supervisor on the call is heard (one update of their participant)."""
    watching = current(svc, call_id)
    if watching is None or watching.supervisor != login:
        raise MonitorRefused("not_monitoring", f"you are not on call {call_id}")
    if watching.mode == mode:
        return watching
    if watching.status != "joined" or not watching.leg:
        raise MonitorRefused("not_joined", "your phone has not answered yet")
    link = _live_link(svc, call_id)
    conference = svc.redis.hget(_key(svc, call_id), "conference") or link.conference_sid
    muted, coach = hearing(mode, link.agent_leg or "")
    svc.telephony.set_listening(str(conference), watching.leg, muted=muted, coach=coach)
    svc.redis.hset(_key(svc, call_id), "mode", mode)
    changed = current(svc, call_id) or watching
    _audit(svc, changed, "monitor-mode", now, {"mode": mode, "from": watching.mode})
    _announce(svc, changed)
    return changed


def leave(svc: Services, call_id: str, login: str, now: float) -> None:
    """The supervisor leaves the call: their leg is hung up (ringing or answered)."""
    watching = current(svc, call_id)
    if watching is None or watching.supervisor != login:
        raise MonitorRefused("not_monitoring", f"you are not on call {call_id}")
    svc.telephony.end_leg(watching.leg)
    _end(svc, watching, "monitor-leave", now, {"mode": watching.mode})


def _end(svc: Services, watching: Monitoring, action: str, now: float,
         data: Mapping[str, Any]) -> None:
    released = svc.redis.eval(_RELEASE, 2, _key(svc, watching.call),
                              _by_key(svc, watching.supervisor), watching.supervisor,
                              watching.leg or "", watching.call)
    if released:
        _audit(svc, watching, action, now, data)
        _announce(svc, watching, gone=True)


# -- what Twilio tells ----------------------------------------------------------------------------


def leg_status(svc: Services, call_id: str, form: Mapping[str, str], now: float) -> None:
    """A status callback of a supervisor's leg: answered means joined (a participant added
    by REST joins as it answers); an ended leg ends the monitoring (hung up, no answer, the
    call over)."""
    status, sid = form.get("CallStatus", ""), form.get("CallSid", "")
    watching = current(svc, call_id)
    if watching is None or not sid or watching.leg != sid:
        return
    if status in ENDED_STATUSES:
        _end(svc, watching, "monitor-ended", now, {"mode": watching.mode, "leg_status": status})
    elif status == "in-progress":  # a participant added by REST joins as it answers
        _joined(svc, watching, now)


def participant_event(svc: Services, call_id: str, event: str, sid: str, now: float) -> None:
    """``participant-join``/``-leave`` of the call's conference, for the supervisor's leg."""
    watching = current(svc, call_id)
    if watching is None or not sid or watching.leg != sid:
        return
    if event == "participant-join":
        _joined(svc, watching, now)
    elif event == "participant-leave":
        _end(svc, watching, "monitor-ended", now, {"mode": watching.mode,
                                                    "why": "left the conference"})


def _joined(svc: Services, watching: Monitoring, now: float) -> None:
    """The supervisor's leg is in the conference (said by the join event or the answered
    callback, whichever comes first: either may be lost); recorded once."""
    if not svc.redis.eval(_JOIN, 1, _key(svc, watching.call)):
        return
    joined = current(svc, watching.call) or watching
    _audit(svc, joined, "monitor-joined", now, {"mode": joined.mode})
    _announce(svc, joined)


# -- views ----------------------------------------------------------------------------------------


def for_call_taker(svc: Services, call_id: str) -> dict[str, Any] | None:
    """What the call-taker's console shows: who is on their call, in which mode."""
    watching = current(svc, call_id)
    if watching is None:
        return None
    return {"login": watching.supervisor, "name": watching.name, "mode": watching.mode,
            "status": watching.status}


def live_calls(svc: Services) -> list[dict[str, Any]]:
    """Calls a supervisor can join now (a call-taker talking to a caller), longest first."""
    calls = []
    for p in svc.agents.all():
        if p.state is not State.ON_CALL or not p.call_id:
            continue
        link = svc.links.for_call(p.call_id)
        if link is None or link.closed or not link.bridged or link.agent_id != p.agent_id:
            continue
        watching = current(svc, p.call_id)
        calls.append({
            "call": p.call_id, "agent": p.agent_id, "line": link.entry.data.get("line"),
            "queue_class": link.entry.queue_class, "since": link.bridged, "held": link.held,
            "transfer": bool(link.transfer),
            "supervisor": watching.as_dict() if watching else None,
        })
    return sorted(calls, key=lambda c: c["since"] or 0)


def _audit(svc: Services, watching: Monitoring, action: str, now: float,
           data: Mapping[str, Any]) -> None:
    auditlog.add(svc.engine, svc.settings.center, datetime.fromtimestamp(now, UTC),
                 watching.supervisor, action, f"call:{watching.call}",
                 {"agent": watching.agent, "leg": watching.leg, **data})


def _announce(svc: Services, watching: Monitoring, gone: bool = False) -> None:
    event = {"event": "supervisor", "agent": watching.agent, "call": watching.call,
             "supervisor": watching.supervisor, "mode": None if gone else watching.mode,
             "status": "gone" if gone else watching.status}
    try:
        svc.redis.publish(svc.agents.channel, json.dumps(event, separators=(",", ":")))
    except Exception:  # the console's next snapshot shows it anyway
        log.warning("could not announce the supervisor on call %s", watching.call)
