"""`<Dial>`: ring parties and bridge the call to the one who answers.

- `<Number>`, `<Client>`, `<Sip>`: each target gets a child leg (`outbound-dial`, with
  `ParentCallSid`), rung at once; the first party to answer within `timeout` is bridged, the
  others are canceled. How a party behaves comes from the emulator's registry
  (`Emulator.on_dial`). A target that is one of the emulator's own numbers becomes a new
  inbound call to that number, which the same caller then talks to (its TwiML runs on the new
  leg; the person on it is the original caller).
- `<Queue>`: takes the first (FIFO) caller of a Twilio queue, waiting up to `timeout` for one;
  the caller hears the noun's `url` document, then both are bridged.
- `<Conference>`: see `ivr.sim.conference`.

When the dial ends, the `action` URL gets `DialCallStatus` (and `DialCallSid`,
`DialCallDuration`, `DialBridged`); without `action` execution goes on with the next verb.
If the caller hangs up during the dial, the action is still requested and its answer ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.sim import conference
from ivr.sim.call import Bridge, Call, CallInterrupt, HungUp, VerbInterrupted, Webhook
from ivr.sim.callers import Party
from ivr.sim.queue import Dequeued
from ivr.sim.scheduler import TIMEOUT, Wait
from ivr.sim.twiml import (
    Conference,
    Dial,
    Document,
    Number,
    QueueNoun,
    application_error_document,
    resolve,
)

if TYPE_CHECKING:
    from ivr.sim.interpreter import Interpreter, Step


def dial(it: Interpreter, verb: Dial, doc: Document) -> Step:
    if not verb.targets:
        it.call.log("warning", code=12200, message="<Dial> without a number or noun")
        return None
    first = verb.targets[0]
    for target in verb.targets:
        if isinstance(target, Number) and target.url:
            # Not emulated, so refused loudly: a whisper the app relied on would otherwise be
            # skipped without anyone noticing.
            it.call.log("error", code=12200, url=doc.url,
                        detail=f"<{_noun(target)} url> (a whisper to {target.to} before the "
                        "bridge) is not emulated")
            it.call.log("application_error", url=doc.url, code=12200)
            yield from it.follow(application_error_document())
            return None
    if not isinstance(first, Number):
        it.call.answer()  # a queue or a conference: no ringing to preserve
    try:
        if isinstance(first, QueueNoun):
            params = yield from _dial_queue(it, verb, first, doc)
        elif isinstance(first, Conference):
            params = yield from conference.join(it, verb, first, doc)
        else:
            numbers = [t for t in verb.targets if isinstance(t, Number)]
            forward = it.sim.numbers.get(numbers[0].to) if len(numbers) == 1 else None
            if forward is not None:
                params = yield from _forward(it, verb, numbers[0], doc)
            else:
                params = yield from _ring(it, verb, numbers, doc)
    except VerbInterrupted as ended:  # the caller hung up or was redirected mid-dial
        it.call.log("dial_result", **ended.params)
        if isinstance(ended.cause, HungUp):
            it.call.set_status("completed")
            if verb.action:
                it.fetch(resolve(doc, verb.action), verb.method, ended.params)  # answer ignored
        raise ended.cause from None
    it.call.log("dial_result", **params)
    return it.fetch(resolve(doc, verb.action), verb.method, params) if verb.action else None


def _noun(target: Number) -> str:
    return "Client" if target.to.startswith("client:") else \
        "Sip" if target.to.startswith("sip:") else "Number"


def _bridged(leg: Call, bridge: Bridge) -> dict[str, str]:
    return {"DialCallStatus": "completed", "DialCallSid": leg.sid,
            "DialCallDuration": str(bridge.duration), "DialBridged": "true"}


def _talk(it: Interpreter, verb: Dial, leg: Call, bridge: Bridge) -> Step:
    """Stay bridged until the other side leaves or `timeLimit`; returns the action params."""
    try:
        if not bridge.ended and (yield Wait(verb.time_limit)) is TIMEOUT:
            it.call.log("warning", code=None, message="<Dial timeLimit> reached")
            bridge.end(it.call)
    except CallInterrupt as exc:
        bridge.end(it.call)
        raise VerbInterrupted(exc, _bridged(leg, bridge)) from None
    return _bridged(leg, bridge)


def _child(it: Interpreter, verb: Dial, target: Number, doc: Document) -> Call:
    hook = Webhook(
        status_callback=resolve(doc, target.status_callback) if target.status_callback else None,
        status_callback_method=target.status_callback_method,
        status_callback_events=target.status_callback_event,
    )
    call = it.call
    leg = it.sim.new_call(verb.caller_id or call.from_, target.to, "outbound-dial", hook,
                          parent_sid=call.sid)
    leg.set_status("queued", "initiated")
    leg.set_status("ringing", "ringing")
    return leg


def _ring(it: Interpreter, verb: Dial, targets: list[Number], doc: Document) -> Step:
    sim, call = it.sim, it.call
    legs = [(_child(it, verb, t, doc), sim.party_for(t.to)) for t in targets]
    call.log("dial", to=[t.to for t in targets], legs=[leg.sid for leg, _ in legs])
    answering = [(p.ring, i) for i, (_, p) in enumerate(legs)
                 if p.outcome == "answer" and p.ring <= verb.timeout]
    if answering:
        ring, winner = min(answering)
    else:
        outcomes = {p.outcome for _, p in legs}
        if outcomes <= {"busy", "failed"}:
            ring = max(p.ring for _, p in legs)
            status = "busy" if "busy" in outcomes else "failed"
        else:
            ring, status = verb.timeout, "no-answer"
    try:
        yield ring
    except CallInterrupt as exc:
        for leg, _ in legs:
            leg.end("canceled")
        params = {"DialCallStatus": "canceled", "DialCallSid": legs[0][0].sid}
        raise VerbInterrupted(exc, params) from None
    if not answering:
        for leg, party in legs:
            leg.end(party.outcome if party.outcome != "answer" else "no-answer")
        return {"DialCallStatus": status, "DialCallSid": legs[0][0].sid}
    for i, (leg, _) in enumerate(legs):
        if i != winner:
            leg.end("canceled")
    leg, party = legs[winner]
    bridge = _connect(it, leg, party)
    return (yield from _talk(it, verb, leg, bridge))


def _connect(it: Interpreter, leg: Call, party: Party) -> Bridge:
    """Answer a party's leg and bridge it to this call; the party hangs up on its own script."""
    sim, call = it.sim, it.call
    leg.answer()
    call.answer()  # a no-op unless <Dial answerOnBridge> kept the caller ringing until now
    sim.attach_person(leg, party.script, party.responder, party.hangup_after, "callee")
    bridge = Bridge(sim, call, leg)
    proc = call.process
    bridge.notify[call.sid] = lambda: proc is not None and proc.resume("ended")
    bridge.notify[leg.sid] = lambda: leg.hang_up("remote")
    leg.on_end.append(lambda: bridge.end(leg))
    bridge.start()
    return bridge


def _forward(it: Interpreter, verb: Dial, target: Number, doc: Document) -> Step:
    """Dial one of the emulator's own numbers: a new inbound call that this caller talks to."""
    sim, call = it.sim, it.call
    leg = _child(it, verb, target, doc)
    inbound = sim.start_inbound(sim.numbers[target.to], verb.caller_id or call.from_,
                                person=it.person)
    call.log("dial", to=[target.to], legs=[leg.sid], inbound=inbound.sid)
    proc = call.process
    inbound.on_answer.append(lambda: proc is not None and proc.resume("answered"))
    inbound.on_end.append(lambda: proc is not None and proc.resume("ended"))
    try:
        r = yield Wait(verb.timeout)
    except CallInterrupt as exc:
        inbound.hang_up("caller")
        leg.end("canceled")
        raise VerbInterrupted(exc, {"DialCallStatus": "canceled", "DialCallSid": leg.sid}) from None
    if r is not TIMEOUT and inbound.answered_t is None:  # the number rejected the call
        leg.end(inbound.status)
        return {"DialCallStatus": inbound.status, "DialCallSid": leg.sid}
    if r is TIMEOUT:
        inbound.hang_up("caller")
        leg.end("no-answer")
        return {"DialCallStatus": "no-answer", "DialCallSid": leg.sid}
    leg.answer()
    call.answer()
    bridge = Bridge(sim, call, inbound)
    bridge.notify[call.sid] = lambda: proc is not None and proc.resume("ended")
    bridge.notify[inbound.sid] = lambda: inbound.hang_up("caller")
    inbound.on_end.append(lambda: bridge.end(inbound))
    bridge.start()
    if inbound.ended:  # its TwiML ended before we got here
        bridge.end(inbound)
    try:
        return (yield from _talk(it, verb, leg, bridge))
    finally:
        leg.end("completed")


def _dial_queue(it: Interpreter, verb: Dial, noun: QueueNoun, doc: Document) -> Step:
    """The agent's side of `<Dial><Queue>` (the caller's side is `ivr.sim.queue._dequeued`)."""
    sim, call, clock = it.sim, it.call, it.sim.clock
    q = sim.queues.by_name.get(noun.name)
    call.log("dial", queue=noun.name)
    if q is None:
        return {"DialCallStatus": "failed"}
    member = q.front()
    proc = call.process
    if member is None:
        q.waiters.append(proc)  # type: ignore[arg-type]
        try:
            got = yield Wait(verb.timeout)
        except CallInterrupt as exc:
            raise VerbInterrupted(exc, {"DialCallStatus": "canceled"}) from None
        finally:
            if proc in q.waiters:
                q.waiters.remove(proc)  # type: ignore[arg-type]
        if got is TIMEOUT:
            return {"DialCallStatus": "no-answer"}
        member = got
    q.remove(member, clock.elapsed)
    caller = member.call
    bridge = Bridge(sim, call, caller)
    bridge.notify[call.sid] = lambda: proc is not None and proc.resume("ended")
    member.taken_by = proc
    if caller.process is not None:
        caller.process.interrupt(Dequeued(call, noun, doc.url, bridge, member))
    try:
        ready = yield Wait()
    except CallInterrupt as exc:
        bridge.end(call)  # a caller still hearing the <Queue url> document goes on alone
        params = {"DialCallStatus": "canceled", "DialCallSid": caller.sid}
        raise VerbInterrupted(exc, params) from None
    if ready != "bridged":  # the caller hung up while hearing the <Queue url> document
        return {"DialCallStatus": "failed", "DialCallSid": caller.sid}
    return (yield from _talk(it, verb, caller, bridge))
