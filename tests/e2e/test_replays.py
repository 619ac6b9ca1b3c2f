"""Replayed webhooks change no record (issue 18, finding 6).

Twilio may send a webhook twice, and anyone who captured a signed request can send it again:
every webhook that ends or changes a call must be idempotent per (CallSid, event). Here every
such webhook of real emulated calls is delivered twice in a row, byte for byte (same signed
parameters), and the SQL records are compared before and after the copy; when the calls are
over, all of them are replayed once more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import MetaData, select

from ivr.calls.models import CallEvent
from ivr.sim import answers, busy, hangup, no_answer, press, wait
from ivr.sim.transport import Params, Response, Transport
from tests.e2e.floor import Floor

TO_A_CALL_TAKER = [press("1"), press("0")]
IN_LINE_AT = 42

# What ends or changes a call: its status callback, the queue's result, the legs' Dial
# actions (dial results), the call-taker's leg status and the conference's events.
CHANGING = ("/voice/status", "/voice/queue/result", "/voice/agent/leg-status",
            "/voice/agent/conference", "/voice/agent/caller-done", "/voice/agent/agent-done",
            "/voice/transfer/leg", "/voice/transfer/cold-done")
TABLES = ("calls", "call_events", "agent_states", "repairs", "transfers", "transfer_steps")


def snapshot(center) -> dict[str, list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    meta = MetaData()
    meta.reflect(center.services.engine, only=TABLES)
    with center.services.engine.connect() as conn:
        return {name: [tuple(row) for row in conn.execute(
            select(meta.tables[name]).order_by(*meta.tables[name].primary_key.columns))]
            for name in TABLES}


def changes(before: Mapping[str, list], after: Mapping[str, list]) -> dict[str, Any]:
    return {name: {"gone": [r for r in before[name] if r not in after[name]],
                   "new": [r for r in after[name] if r not in before[name]]}
            for name in TABLES if before[name] != after[name]}


@dataclass
class Replaying:
    """A transport that sends every call-changing webhook a second time at once, and keeps
    them all to be replayed again later."""

    inner: Transport
    center: Any
    sent: list[tuple[str, str, Params, dict[str, str]]] = field(default_factory=list)
    changed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def request(self, method: str, url: str, params: Params,
                headers: Mapping[str, str]) -> Response:
        first = self.inner.request(method, url, params, headers)
        path = urlsplit(url).path
        if path in CHANGING:
            self.sent.append((method, url, params, dict(headers)))
            before = snapshot(self.center)
            again = self.inner.request(method, url, params, headers)
            assert again.status < 500, (url, again.error)
            diff = changes(before, snapshot(self.center))
            if diff:
                self.changed.append((f"{path} {dict(params).get('CallStatus', '')}"
                                     f"{dict(params).get('QueueResult', '')}"
                                     f"{dict(params).get('StatusCallbackEvent', '')}", diff))
        return first

    def replay_all(self) -> None:
        for method, url, params, headers in self.sent:
            before = snapshot(self.center)
            self.inner.request(method, url, params, headers)
            diff = changes(before, snapshot(self.center))
            if diff:
                self.changed.append((f"late {urlsplit(url).path}", diff))


def replaying(center) -> Replaying:  # type: ignore[no-untyped-def]
    wrapper = Replaying(center.sim.webhooks.transport, center)
    center.sim.webhooks.transport = wrapper
    return wrapper


def kinds_of(center, sid: str) -> list[str]:  # type: ignore[no-untyped-def]
    with center.services.sessions() as session:
        return list(session.scalars(select(CallEvent.kind).where(CallEvent.call_sid == sid)))


def test_replayed_webhooks_of_an_answered_call_change_nothing(center) -> None:  # type: ignore[no-untyped-def]
    wire = replaying(center)
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=60))
    floor.login("bob", phone=answers(after=3))
    agent_ends = center.call([*TO_A_CALL_TAKER, wait(900), hangup()])
    caller_ends = center.call([*TO_A_CALL_TAKER, wait(40), hangup()], caller="+14105550101",
                              at=2)
    floor.run(until=IN_LINE_AT + 200)
    paths = {urlsplit(url).path for _m, url, _p, _h in wire.sent}
    assert {"/voice/status", "/voice/agent/leg-status", "/voice/agent/conference",
            "/voice/agent/caller-done", "/voice/agent/agent-done"} <= paths, paths
    wire.replay_all()
    assert wire.changed == []
    for sid in (agent_ends.sid, caller_ends.sid):
        assert kinds_of(center, sid).count("ended") == 1


def test_replayed_webhooks_of_an_abandoned_call_change_nothing(center) -> None:  # type: ignore[no-untyped-def]
    wire = replaying(center)
    gone = center.call([*TO_A_CALL_TAKER, wait(30), hangup()])
    center.run()
    paths = [urlsplit(url).path for _m, url, _p, _h in wire.sent]
    assert "/voice/queue/result" in paths and "/voice/status" in paths
    wire.replay_all()
    assert wire.changed == []
    assert kinds_of(center, gone.sid).count("abandoned") == 1


def test_replayed_webhooks_of_failed_legs_and_callbacks_change_nothing(center) -> None:  # type: ignore[no-untyped-def]
    wire = replaying(center)
    floor = Floor(center)
    floor.login("alice", phone=busy())
    floor.login("carol", phone=answers(after=15))
    requeued = center.call([*TO_A_CALL_TAKER, wait(300), hangup()])
    rang_out = center.call([*TO_A_CALL_TAKER, wait(6), hangup()], caller="+14105550102", at=1)
    resident = "+14105550177"
    callback = center.call([*TO_A_CALL_TAKER, press("1", after=1)], caller=resident, at=2)
    center.sim.on_dial(resident, [no_answer(), answers(after=4, hangup_after=30)])
    floor.run(until=120)
    floor.login("bob", phone=answers(after=3, hangup_after=20))
    floor.run(until=500)
    paths = {urlsplit(url).path for _m, url, _p, _h in wire.sent}
    assert {"/voice/status", "/voice/agent/leg-status", "/voice/agent/conference"} <= paths
    wire.replay_all()
    assert wire.changed == []
    assert kinds_of(center, requeued.sid).count("agent-leg-failed") >= 1
    assert kinds_of(center, rang_out.sid).count("caller-gone") <= 1
    assert kinds_of(center, callback.sid).count("callback-result") <= 1
