"""The values of the agents package: call-taker states, the table of allowed transitions, the
presence record, reservations (offers), routing rules and the errors users read.

The transition table below is the single source of truth: the Python services refuse what it
does not allow and the Lua scripts receive the allowed source states from it (so the check is
made atomically with the change, inside Redis).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from queues import Entry
from queues.records import skill_set


class State(StrEnum):
    """Where a call-taker is. `RESERVED`: a call is offered and awaits accept or reject."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    ON_BREAK = "on_break"


class Action(StrEnum):
    """What can happen to a call-taker. The first group is asked for by people (console,
    supervisor); the second is done by the router and the reservation clock."""

    LOGIN = "login"
    LOGOUT = "logout"
    BREAK = "break"
    END_BREAK = "end_break"
    END_CALL = "end_call"
    FINISH_WRAP_UP = "finish_wrap_up"
    SET_SKILLS = "set_skills"

    OFFER = "offer"
    ACCEPT = "accept"
    REJECT = "reject"
    EXPIRE = "expire"
    CANCEL = "cancel"
    WRAP_UP_DUE = "wrap_up_due"


S = State
LOGGED_IN = frozenset(S) - {S.OFFLINE}
ON_DUTY = frozenset({S.AVAILABLE, S.RESERVED, S.ON_CALL, S.WRAP_UP})
"""States counted as staffing: logged in and able to serve (a break is not serving)."""

TRANSITIONS: Mapping[Action, Mapping[State, tuple[State, ...]]] = {
    # action: {from state: possible resulting states}; a pair absent from here is refused.
    Action.LOGIN: {S.OFFLINE: (S.AVAILABLE,)},
    Action.LOGOUT: {S.AVAILABLE: (S.OFFLINE,), S.ON_BREAK: (S.OFFLINE,), S.WRAP_UP: (S.OFFLINE,)},
    # From wrap-up the break is pending: it starts when wrap-up ends.
    Action.BREAK: {S.AVAILABLE: (S.ON_BREAK,), S.WRAP_UP: (S.WRAP_UP,)},
    # From wrap-up: cancels a pending break.
    Action.END_BREAK: {S.ON_BREAK: (S.AVAILABLE,), S.WRAP_UP: (S.WRAP_UP,)},
    # Straight to available when wrap_up_seconds is 0.
    Action.END_CALL: {S.ON_CALL: (S.WRAP_UP, S.AVAILABLE)},
    Action.FINISH_WRAP_UP: {S.WRAP_UP: (S.AVAILABLE, S.ON_BREAK)},
    Action.SET_SKILLS: {s: (s,) for s in LOGGED_IN},
    Action.OFFER: {S.AVAILABLE: (S.RESERVED,)},
    Action.ACCEPT: {S.RESERVED: (S.ON_CALL,)},
    # On break ("missed calls") after `Rules.max_missed` offers missed in a row.
    Action.REJECT: {S.RESERVED: (S.AVAILABLE, S.ON_BREAK)},
    Action.EXPIRE: {S.RESERVED: (S.AVAILABLE, S.ON_BREAK)},
    # The caller hung up while offered: the call-taker is free at once, nothing counted.
    Action.CANCEL: {S.RESERVED: (S.AVAILABLE,)},
    Action.WRAP_UP_DUE: {S.WRAP_UP: (S.AVAILABLE, S.ON_BREAK)},
}


def allowed(action: Action, state: State) -> bool:
    return state in TRANSITIONS[action]


def sources(action: Action) -> str:
    """The allowed source states of `action`, as sent to the Lua scripts."""
    return " ".join(sorted(TRANSITIONS[action]))


_IS = {
    S.OFFLINE: "is logged out",
    S.AVAILABLE: "is available",
    S.RESERVED: "has a call offered",
    S.ON_CALL: "is on a call",
    S.WRAP_UP: "is in wrap-up",
    S.ON_BREAK: "is on break",
}
_DOING = {
    Action.LOGOUT: "logging out",
    Action.BREAK: "going on break",
    Action.END_BREAK: "ending a break",
    Action.END_CALL: "ending a call",
    Action.FINISH_WRAP_UP: "finishing wrap-up",
    Action.SET_SKILLS: "changing skills",
}
_FIRST = {
    S.OFFLINE: "log in before {doing}",
    S.RESERVED: "accept or reject the offered call before {doing}",
    S.ON_CALL: "end the call before {doing}",
}
_NOTHING = {
    Action.END_BREAK: "there is no break to end",
    Action.END_CALL: "there is no call to end",
    Action.FINISH_WRAP_UP: "there is no wrap-up to finish",
}


def refusal(action: Action, state: State, agent_id: str) -> str:
    """The sentence telling a person why `action` is refused in `state`, and what to do."""
    if action == Action.LOGIN:
        why = "they are already logged in"
    elif action == Action.LOGOUT and state == S.OFFLINE:
        why = "there is nothing to log out of"
    elif action == Action.BREAK and state == S.ON_BREAK:
        why = "end the break before starting another one"
    elif action == Action.SET_SKILLS and state == S.OFFLINE:
        why = "log in with the new skills instead"
    elif action in _NOTHING and not (action == Action.FINISH_WRAP_UP and state == S.ON_CALL):
        why = _NOTHING[action]
    elif state in _FIRST:
        why = _FIRST[state].format(doing=_DOING.get(action, action.value.replace("_", " ")))
    else:
        why = f"{action.value.replace('_', ' ')} is not possible now"
    return f"call-taker {agent_id} {_IS[state]}; {why}"


class AgentError(Exception):
    """An operation refused; `str(error)` is a sentence a person can read."""


class TransitionRefused(AgentError):
    def __init__(self, agent_id: str, action: Action, state: State) -> None:
        super().__init__(refusal(action, state, agent_id))
        self.agent_id = agent_id
        self.action = action
        self.state = state


class OfferClosed(AgentError):
    """The reservation cannot be accepted or rejected: it is gone, late or someone else's.
    `reason`: ``missing`` (expired, rejected, cancelled or never made), ``late`` (its deadline
    passed; the next `expire_due` handles it), ``not_yours`` (offered to another call-taker),
    ``caller_gone`` (the call left the queue while offered)."""

    def __init__(
        self,
        reservation_id: str,
        reason: Literal["missing", "late", "not_yours", "caller_gone"],
        detail: str = "",
    ) -> None:
        text = {
            "missing": "is no longer open (it expired, was rejected, or the caller hung up)",
            "late": f"expired at {detail}; it can no longer be accepted",
            "not_yours": f"was made to call-taker {detail}",
            "caller_gone": "ended: the caller is no longer waiting",
        }[reason]
        super().__init__(f"offer {reservation_id} {text}")
        self.reservation_id = reservation_id
        self.reason = reason


@dataclass(frozen=True)
class Rules:
    """Routing and presence configuration of a center.

    `wrap_up_seconds`: after-call work before a call-taker is offered again (0: none).
    `offer_timeout`: seconds a call-taker has to accept an offer. `max_missed`: offers missed
    in a row (rejected or timed out) that put a call-taker on break with `missed_reason`, as
    FreeSWITCH mod_callcenter's max-no-answer does. `reject_delay`: seconds a call-taker who
    missed an offer is left out of routing. `class_skills`: the skills a call-taker needs to
    count in the staffing of a queue class (a class missing here counts everyone on duty).
    """

    wrap_up_seconds: float = 30.0
    offer_timeout: float = 15.0
    max_missed: int = 3
    reject_delay: float = 0.0
    missed_reason: str = "missed calls"
    class_skills: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("wrap_up_seconds", "reject_delay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number of seconds >= 0")
        if not (math.isfinite(self.offer_timeout) and self.offer_timeout > 0):
            raise ValueError("offer_timeout must be a finite number of seconds > 0")
        if self.max_missed < 1:
            raise ValueError("max_missed must be >= 1")
        if not self.missed_reason:
            raise ValueError("missed_reason must not be empty")


@dataclass(frozen=True)
class Presence:
    """One call-taker as Redis knows them.

    `since`: when the current state began. `idle_since`: when they last became free (routing
    offers a call to the longest idle first); None when logged out. `missed`: offers missed in
    a row. `ready_at`: an available call-taker left out of routing until then (reject delay).
    `wrap_up_until`: when wrap-up ends on its own. `pending_break`: the break reason chosen
    during wrap-up, which starts when wrap-up ends.
    """

    agent_id: str
    state: State
    since: float
    skills: frozenset[str] = frozenset()
    idle_since: float | None = None
    reason: str | None = None
    missed: int = 0
    reservation_id: str | None = None
    call_id: str | None = None
    ready_at: float | None = None
    wrap_up_until: float | None = None
    pending_break: str | None = None

    @classmethod
    def from_json(cls, raw: bytes | str) -> Presence:
        d = json.loads(raw)
        return cls(
            agent_id=d["id"],
            state=State(d["state"]),
            since=float(d["since"]),
            skills=frozenset(d.get("skills") or ()),
            idle_since=_time(d.get("idle")),
            reason=d.get("reason"),
            missed=int(d.get("missed") or 0),
            reservation_id=d.get("resv"),
            call_id=d.get("call"),
            ready_at=_time(d.get("ready")),
            wrap_up_until=_time(d.get("wrap")),
            pending_break=d.get("pbreak"),
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the consoles)."""
        return {
            "agent": self.agent_id,
            "state": self.state.value,
            "since": self.since,
            "skills": sorted(self.skills),
            "idle_since": self.idle_since,
            "reason": self.reason,
            "missed": self.missed,
            "reservation": self.reservation_id,
            "call": self.call_id,
            "ready_at": self.ready_at,
            "wrap_up_until": self.wrap_up_until,
            "pending_break": self.pending_break,
        }


@dataclass(frozen=True)
class Reservation:
    """A call offered to one call-taker until `expires_at`. When `callback` is true the caller
    is not on the line: accepting means dialing them back (`Telephony.call_back`)."""

    reservation_id: str
    agent_id: str
    entry: Entry
    offered_at: float
    expires_at: float

    @property
    def call_id(self) -> str:
        return self.entry.call_id

    @property
    def callback(self) -> bool:
        return self.entry.callback


@dataclass(frozen=True)
class CallerGone:
    """What `caller_gone` found: the call was ``offered`` (its reservation is cancelled and
    the call-taker freed), ``waiting`` (taken out of the queue) or ``unknown`` (already
    answered, already gone, or never queued: nothing changed)."""

    call_id: str
    status: Literal["offered", "waiting", "unknown"]
    entry: Entry | None = None
    reservation: Reservation | None = None


def check_agent_id(agent_id: str) -> str:
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 128:
        raise ValueError("call-taker id must be a non-empty string of at most 128 characters")
    return agent_id


# A call-taker's skills are checked exactly as a call's requirements are.
check_skills = skill_set


def _time(value: Any) -> float | None:
    return None if value is None else float(value)
