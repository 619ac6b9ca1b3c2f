"""Running a call through its flow: start, step, hand-off and end.

This is the glue between a webhook and the pure engine. Each function takes the posted form, does
its Redis and SQL work, and returns the TwiML to answer. The views in `ivr.voice.caller_routes` add
the signature check and the last-resort error answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from twilio.twiml.voice_response import VoiceResponse

from callflows import engine
from callflows.actions import Enqueue, Gather, Hangup, Input, Lookup, Record, Submit, Transfer
from callflows.state import Step
from ivr.calls import calllog
from ivr.calls.live import LiveCall
from ivr.connect import offers
from ivr.flows import announcements
from ivr.platform.db import Pending, Writer
from ivr.platform.phones import mask, normalize
from ivr.services import Services
from ivr.telephony.answers import read_input
from ivr.telephony.safe import safe_twiml
from ivr.telephony.twiml import render
from ivr.transfers import twiml as transfer_twiml
from ivr.transfers.centers import DispatchCenter
from ivr.voice import lookups, waiting

log = logging.getLogger("ivr.calls")

# Caller data that the call row already holds; not copied into every event.
PRIVATE_VARS = frozenset({"caller", "dialed"})


@dataclass(frozen=True)
class Answer:
    """A TwiML document and, for the log, what it did."""

    twiml: str
    note: str = ""


def step_url(svc: Services, event: str, seq: int) -> str:
    return f"{svc.settings.public_url}/voice/step?event={event}&seq={seq}"


def incoming(svc: Services, form: Mapping[str, str]) -> Answer:
    """A new call: pick the line by the number dialed and start its live flow."""
    sid = form.get("CallSid", "")
    if not sid:
        return Answer(str(safe_twiml(svc.settings)), "no CallSid")
    existing = svc.live.get(sid)
    if existing is not None and existing.last_twiml:
        return Answer(existing.last_twiml, "repeated incoming")  # Twilio retried: same answer
    region = svc.settings.default_region
    caller = normalize(form.get("From", ""), region)
    dialed = normalize(form.get("To", ""), region)
    line = svc.lines.for_number(dialed)
    flow, version = svc.flows.live(line.flow)
    now = svc.clock()
    step = engine.start(flow, {"caller": caller, "line": line.name, "dialed": dialed,
                               **announcements.call_vars(svc, line.name)}, now, version=version)
    live = LiveCall(sid=sid, line=line.name, state=step.state)
    log.info("call %s from %s on line %s", sid, mask(caller, svc.settings.log_key), line.name)
    pending = Pending(svc.engine)
    calllog.open_call(pending, sid=sid, line=line.name, caller=caller, dialed=dialed, at=now,
                      flow=flow.name, flow_version=version, language=step.state.language)
    calllog.add_event(pending, sid, now, "incoming", f"line {line.name}",
                      {"flow": flow.name, "version": version})
    live, twiml = perform(svc, pending, live, step)
    pending.apply(svc.engine)
    route_if_queued(svc, live)
    return Answer(twiml)


def overflow(svc: Services, conn: Writer, live: LiveCall, now: float) -> str:
    """The caller was going back in line and their class is full: the flow's overflow step, as
    for a full queue at the flow's own queue step (recorded in `conn`). Returns its TwiML."""
    at = datetime.fromtimestamp(now, UTC)
    flow = svc.flows.get(live.state.flow, live.state.version)
    step = engine.resume(flow, live.state, Input(event="overflow"), at)
    _live, twiml = perform(svc, conn, live.evolve(phase="flow", outcome=None), step)
    return twiml


def route_if_queued(svc: Services, live: LiveCall) -> None:
    """A call that just joined the line is offered to a free call-taker at once.

    Only after the webhook's transaction has committed: the offer reaches the console at once,
    and what the console then reads (menu path, topic) must already be in SQL.
    """
    if live.phase == "queued":
        offers.route(svc, svc.clock().timestamp())


def resume(svc: Services, form: Mapping[str, str], event: str, seq: str | None) -> Answer:
    """The caller answered a Gather or Record (or a Dial ended): advance the flow one step."""
    sid = form.get("CallSid", "")
    live = svc.live.get(sid) if sid else None
    if live is None:
        # State lost or never made (Redis flushed, a forged or very late request): the caller is
        # real, so start them again on their line rather than drop them.
        log.warning("step for unknown call %s: starting its line again", sid or "-")
        answer = incoming(svc, form)
        record_error(svc, sid, "unknown-call", f"{event} for a call with no live state")
        return answer
    expected = ("flow", "transfer") if event == "dial" else ("flow",)  # a Dial's own action
    if seq != str(live.seq) or live.phase not in expected:
        return Answer(live.last_twiml or str(safe_twiml(svc.settings)), "stale step replayed")
    flow = svc.flows.get(live.state.flow, live.state.version)
    now = svc.clock()
    if event == "dial":
        return _dial_result(svc, live, form)
    step = engine.resume(flow, live.state, read_input(event, form), now)
    pending = Pending(svc.engine)
    if event == "record" and form.get("RecordingUrl"):
        calllog.add_event(pending, sid, now, "recording", form.get("RecordingUrl", ""),
                          {"seconds": form.get("RecordingDuration")})
        live = live.evolve(outcome="voicemail")
    live, twiml = perform(svc, pending, live, step)
    pending.apply(svc.engine)
    route_if_queued(svc, live)
    return Answer(twiml)


def perform(
    svc: Services, conn: Writer, live: LiveCall, step: Step,
) -> tuple[LiveCall, str]:
    """Record a step, render its actions, and store the call's new live state."""
    now = svc.clock()
    calllog.add_events(conn, live.sid, now, step.events)
    if any(kind == "language" for kind, _detail in step.events):
        calllog.set_language(conn, live.sid, step.state.language)
    live, step = _settle(svc, conn, live, step)
    seq = live.seq + 1
    phase, outcome = live.phase, live.outcome
    terminal = step.actions[-1] if step.actions else Hangup()
    if isinstance(terminal, Hangup):
        phase, outcome = "done", outcome or "self-service"
    elif isinstance(terminal, Enqueue):
        phase = "queued"
    elif isinstance(terminal, Gather | Record):
        phase = "flow"
    elif isinstance(terminal, Transfer):
        phase = "transfer"
        calllog.add_event(conn, live.sid, now, "transfer", "number", {"reason": terminal.reason})
    twiml = str(render(step.actions, lambda event: step_url(svc, event, seq),
                       on_enqueue=lambda r, a: _enqueue(svc, r, a),
                       on_transfer=lambda r, a: _dial(svc, r, a, seq)))
    # One copy of the frozen LiveCall per step, not one per changed field.
    live = live.evolve(state=step.state, seq=seq, phase=phase, outcome=outcome, last_twiml=twiml)
    svc.live.put(live)
    return live, twiml


def _settle(
    svc: Services, conn: Writer, live: LiveCall, step: Step,
) -> tuple[LiveCall, Step]:
    """Carry out the hand-offs that resolve at once, until the step ends in something to render.

    A transfer to another line of this center (press 9 for 911) starts that line's flow on the
    same call: no second leg, no ringing. A queue step pushes the call into the priority queue;
    a full queue resumes the flow at its overflow step. The prompts said before are kept.
    """
    now = svc.clock()
    for _hop in range(8):
        terminal = step.actions[-1] if step.actions else None
        if isinstance(terminal, Enqueue):
            pushed = svc.queues.push(
                live.sid, terminal.queue_class, terminal.priority, terminal.skills,
                now.timestamp(),
                {"line": live.line, "language": terminal.language,
                 "topic": str(step.state.vars.get("topic", ""))},
                with_position=False,
            )
            if pushed.status != "full":
                known = {k: v for k, v in step.state.vars.items() if k not in PRIVATE_VARS}
                calllog.add_event(conn, live.sid, now, "enqueue", terminal.queue_class,
                                  {"priority": terminal.priority, "skills": list(terminal.skills),
                                   "vars": known, "path": list(step.state.path)})
                calllog.mark_queued(conn, live.sid, terminal.queue_class, now)
                live = live.evolve(extra={**live.extra, "queued_at": now.timestamp(),
                                          "queue_class": terminal.queue_class,
                                          "skills": list(terminal.skills),
                                          "self_service": terminal.self_service is not None})
                return live, step
            calllog.add_event(conn, live.sid, now, "queue-full", terminal.queue_class)
            flow = svc.flows.get(step.state.flow, step.state.version)
            resumed = engine.resume(flow, step.state, Input(event="overflow"), now)
            calllog.add_events(conn, live.sid, now, resumed.events)
            step = Step(step.actions[:-1] + resumed.actions, resumed.state, resumed.done,
                        resumed.events)
            continue
        if isinstance(terminal, Lookup | Submit):
            step, made = _answer_app(svc, conn, live, step, terminal)
            if made:
                # A recording the flow turned into a request is not a voicemail left unanswered.
                live = live.evolve(outcome="self-service")
            continue
        if not isinstance(terminal, Transfer) or not terminal.line:
            return live, step
        dispatch = _menu_dispatch(svc, terminal)
        if dispatch is not None:  # the line's emergency option goes to a dispatch center
            tid, dial = transfer_twiml.menu_handoff(svc, conn, live.sid, dispatch, terminal,
                                                    step.state.vars, step.state.path, now)
            live = live.evolve(extra={**live.extra, "transfer": tid})
            return live, Step(step.actions[:-1] + (dial,), step.state, step.done, step.events)
        target = svc.lines.get(terminal.line)
        if target is None:
            calllog.add_event(conn, live.sid, now, "error", f"no line {terminal.line!r}")
            flow = svc.flows.get(step.state.flow, step.state.version)
            failed = engine.resume(flow, step.state, Input(event="transfer-failed"), now)
            step = Step(step.actions[:-1] + failed.actions, failed.state, failed.done,
                        failed.events)
            continue
        flow, version = svc.flows.live(target.flow)
        vars_ = {**step.state.vars, "line": target.name, "transferred_from": live.line,
                 "transfer_reason": terminal.reason}
        started = engine.start(flow, vars_, now, version=version,
                               language=step.state.language)
        calllog.add_event(conn, live.sid, now, "transfer", f"line {target.name}",
                          {"reason": terminal.reason, "from": live.line})
        calllog.add_events(conn, live.sid, now, started.events)
        step = Step(step.actions[:-1] + started.actions, started.state, started.done,
                    started.events)
        live = live.evolve(line=target.name)
    raise RuntimeError("hand-offs loop (lines transferring to each other, or overflow to a queue)")


def _answer_app(svc: Services, conn: Writer, live: LiveCall, step: Step,
                action: Lookup | Submit) -> tuple[Step, bool]:
    """A flow asked the app for data (or to make a request): answer, and walk on at once.

    Also says whether a submit made what it was asked to."""
    if isinstance(conn, Pending):
        conn.apply(svc.engine)  # the call's row first: the answer may link a request to it
    answered = lookups.answer(svc, live.sid, action, conn)
    now = svc.clock()
    calllog.add_event(conn, live.sid, now, "app-answer", answered.detail)
    flow = svc.flows.get(step.state.flow, step.state.version)
    resumed = engine.resume(flow, step.state, answered.input, now)
    calllog.add_events(conn, live.sid, now, resumed.events)
    made = isinstance(action, Submit) and answered.input.event == "result"
    return Step(step.actions[:-1] + resumed.actions, resumed.state, resumed.done,
                resumed.events), made


def _menu_dispatch(svc: Services, action: Transfer) -> DispatchCenter | None:
    """The dispatch center (``transfers.menu``) a flow's transfer to a line goes to, if any."""
    if not svc.settings.raw.get("transfers", {}).get("menu"):
        return None
    return transfer_twiml.menu_target(svc, action)


def _enqueue(svc: Services, response: VoiceResponse, action: Enqueue) -> None:
    waiting.render_enqueue(svc.settings, response, action)


def _dial(svc: Services, response: VoiceResponse, action: Transfer, seq: int) -> None:
    dial = response.dial(action=step_url(svc, "dial", seq), method="POST", timeout=action.timeout)
    if (action.number or "").startswith("sip:"):
        dial.sip(action.number or "")
    else:
        dial.number(action.number or "")


def _dial_result(svc: Services, live: LiveCall, form: Mapping[str, str]) -> Answer:
    """A transfer to an outside number ended: done if it connected, else back into the flow."""
    status = form.get("DialCallStatus", "")
    now = svc.clock()
    with svc.engine.begin() as conn:  # SQL only: no Redis round trip inside the write
        calllog.add_event(conn, live.sid, now, "dial-result", status)
        if live.extra.get("transfer"):  # a menu transfer to a dispatch center
            transfer_twiml.menu_result(svc, conn, str(live.extra["transfer"]), status, now)
    if status in ("completed", "answered"):
        live = live.evolve(phase="done", outcome="transferred", seq=live.seq + 1)
        done = VoiceResponse()
        done.hangup()
        twiml = str(done)
        svc.live.put(live.evolve(last_twiml=twiml))
        return Answer(twiml)
    flow = svc.flows.get(live.state.flow, live.state.version)
    step = engine.resume(flow, live.state, Input(event="transfer-failed"), now)
    pending = Pending(svc.engine)
    live, twiml = perform(svc, pending, live.evolve(phase="flow"), step)
    pending.apply(svc.engine)
    route_if_queued(svc, live)
    return Answer(twiml)


def record_error(svc: Services, sid: str, kind: str, detail: str) -> None:
    if not sid:
        return
    try:
        with svc.engine.begin() as conn:
            if calllog.exists(conn, sid):
                calllog.add_event(conn, sid, svc.clock(), kind, detail)
    except Exception:  # the record of a failure must never become a second failure
        log.exception("could not record %s for call %s", kind, sid)
