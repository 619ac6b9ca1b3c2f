"""The transition table and the sentences that explain a refusal (no Redis)."""

from __future__ import annotations

import pytest

from agents.model import (
    TRANSITIONS,
    Action,
    OfferClosed,
    Rules,
    State,
    TransitionRefused,
    allowed,
    refusal,
)

S = State
PERSON = [Action.LOGIN, Action.LOGOUT, Action.BREAK, Action.END_BREAK, Action.END_CALL,
          Action.FINISH_WRAP_UP, Action.SET_SKILLS]  # fmt: skip


def test_every_action_has_a_row_and_every_target_is_a_state() -> None:
    assert set(TRANSITIONS) == set(Action)
    for row in TRANSITIONS.values():
        for source, targets in row.items():
            assert isinstance(source, State)
            assert targets and all(isinstance(t, State) for t in targets)


def test_the_table() -> None:
    expected = {
        Action.LOGIN: {S.OFFLINE},
        Action.LOGOUT: {S.AVAILABLE, S.ON_BREAK, S.WRAP_UP},
        Action.BREAK: {S.AVAILABLE, S.WRAP_UP},
        Action.END_BREAK: {S.ON_BREAK, S.WRAP_UP},
        Action.END_CALL: {S.ON_CALL},
        Action.FINISH_WRAP_UP: {S.WRAP_UP},
        Action.SET_SKILLS: set(S) - {S.OFFLINE},
        Action.OFFER: {S.AVAILABLE},
        Action.ACCEPT: {S.RESERVED},
        Action.REJECT: {S.RESERVED},
        Action.EXPIRE: {S.RESERVED},
        Action.CANCEL: {S.RESERVED},
        Action.WRAP_UP_DUE: {S.WRAP_UP},
    }
    assert {a: set(row) for a, row in TRANSITIONS.items()} == expected


@pytest.mark.parametrize("action", PERSON)
@pytest.mark.parametrize("state", list(State))
def test_every_refusal_is_a_sentence_naming_the_call_taker(action: Action, state: State) -> None:
    if allowed(action, state):
        return
    text = refusal(action, state, "ana")
    assert text.startswith("call-taker ana ")
    head, _, why = text.partition("; ")
    assert why and why[0].islower() and "_" not in why
    err = TransitionRefused("ana", action, state)
    assert str(err) == text and err.state == state and err.action == action


@pytest.mark.parametrize(
    ("action", "state", "text"),
    [
        (Action.BREAK, S.ON_CALL,
         "call-taker ana is on a call; end the call before going on break"),
        (Action.BREAK, S.RESERVED,
         "call-taker ana has a call offered; accept or reject the offered call before going on "
         "break"),
        (Action.BREAK, S.OFFLINE, "call-taker ana is logged out; log in before going on break"),
        (Action.BREAK, S.ON_BREAK,
         "call-taker ana is on break; end the break before starting another one"),
        (Action.LOGOUT, S.ON_CALL, "call-taker ana is on a call; end the call before logging out"),
        (Action.LOGOUT, S.OFFLINE,
         "call-taker ana is logged out; there is nothing to log out of"),
        (Action.LOGIN, S.ON_BREAK, "call-taker ana is on break; they are already logged in"),
        (Action.END_CALL, S.AVAILABLE, "call-taker ana is available; there is no call to end"),
        (Action.END_BREAK, S.AVAILABLE, "call-taker ana is available; there is no break to end"),
        (Action.FINISH_WRAP_UP, S.ON_CALL,
         "call-taker ana is on a call; end the call before finishing wrap-up"),
        (Action.FINISH_WRAP_UP, S.AVAILABLE,
         "call-taker ana is available; there is no wrap-up to finish"),
        (Action.SET_SKILLS, S.OFFLINE,
         "call-taker ana is logged out; log in with the new skills instead"),
    ],
)  # fmt: skip
def test_refusal_wording(action: Action, state: State, text: str) -> None:
    assert refusal(action, state, "ana") == text


def test_offer_closed_sentences() -> None:
    assert str(OfferClosed("R7", "missing")) == (
        "offer R7 is no longer open (it expired, was rejected, or the caller hung up)"
    )
    assert str(OfferClosed("R7", "not_yours", "bob")) == "offer R7 was made to call-taker bob"


@pytest.mark.parametrize(
    "kw",
    [{"wrap_up_seconds": -1}, {"offer_timeout": 0}, {"max_missed": 0}, {"reject_delay": -0.5},
     {"missed_reason": ""}, {"wrap_up_seconds": float("inf")}],
)  # fmt: skip
def test_rules_refuse_nonsense(kw: dict) -> None:
    with pytest.raises(ValueError):
        Rules(**kw)


def test_rule_defaults() -> None:
    rules = Rules()
    assert (rules.offer_timeout, rules.max_missed, rules.reject_delay) == (15.0, 3, 0.0)
    assert rules.missed_reason == "missed calls"
