"""The step engine: (flow, call state, caller input, now) -> what to do next.

Pure: no I/O, no clock (time is the `now` passed in), no globals. `start` and `resume` walk the
flow from node to node, collecting what the caller hears, until a node that waits for the caller
or hands the call on; that node's action ends the step (see `callflows.actions`).

Whatever the caller presses or says, and whatever event the app relays, the engine answers with a
way forward: a retry, the node's failure target, or the flow's `fallback`. It raises `EngineError`
only when the state itself does not fit the flow, or when a flow that skipped the checks loops.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callflows import conditions, prompts, schedule, speech, template
from callflows.actions import (
    Action,
    Enqueue,
    Gather,
    Hangup,
    Input,
    Lookup,
    Pause,
    Record,
    Say,
    Submit,
    Terminal,
    Transfer,
)
from callflows.answer import Answer
from callflows.errors import EngineError
from callflows.model import (
    BranchNode,
    CollectNode,
    Flow,
    GotoNode,
    HangupNode,
    HoursNode,
    LanguageNode,
    LookupNode,
    MenuNode,
    Node,
    PromptNode,
    QueueNode,
    RecordNode,
    Ref,
    SetNode,
    SubmitNode,
    TransferNode,
)
from callflows.state import CallState, Step

MAX_VISITS = 100
"""Nodes one step may pass through without waiting: more means the flow loops."""


@dataclass
class _Call:
    """The working copy of a call during one step."""

    flow: Flow
    now: datetime
    version: int
    language: str
    vars: dict[str, Any]
    path: list[str]
    actions: list[Action] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Wait:
    """How a step ends: its terminal action and the node the call now stands at."""

    terminal: Terminal
    node: str | None
    done: bool
    attempts: int = 0


def start(flow: Flow, vars: Mapping[str, Any], now: datetime, version: int = 1,
          language: str | None = None) -> Step:
    """Begin a call at the flow's start node. `vars` (caller, line, ...) override flow vars.
    `language`: the caller's, when chosen before (a transfer from another line's flow); kept
    if this flow speaks it, else the flow's first."""
    lang = language if language in flow.languages else flow.default_language
    call = _Call(flow, now, version, lang, {**flow.vars, **dict(vars or {})}, [])
    return _finish(call, _walk(call, flow.start))


def resume(flow: Flow, state: CallState, input: Input, now: datetime) -> Step:
    """Continue a call with what came back from the caller or the network."""
    if state.flow != flow.name:
        raise EngineError(f"the call is in flow '{state.flow}', not '{flow.name}'")
    if state.language not in flow.languages:
        raise EngineError(f"flow '{flow.name}' has no language '{state.language}'")
    call = _Call(flow, now, state.version, state.language, dict(state.vars), list(state.path))
    answer = Answer.read(input)
    if state.node is None:
        call.events.append(("ignored", answer.event))
        return _finish(call, _Wait(Hangup(), None, True))
    node = flow.nodes.get(state.node)
    handler = _RESUME.get(type(node))
    if node is None or handler is None:
        raise EngineError(f"flow '{flow.name}' has no node '{state.node}' that waits for input")
    outcome = handler(call, node, answer, state.attempts)
    return _finish(call, _walk(call, outcome) if isinstance(outcome, str) else outcome)


def _finish(call: _Call, wait: _Wait) -> Step:
    state = CallState(flow=call.flow.name, version=call.version, node=wait.node,
                      language=call.language, vars=call.vars, attempts=wait.attempts,
                      path=tuple(call.path))
    return Step((*call.actions, wait.terminal), state, wait.done, tuple(call.events))


def _walk(call: _Call, node_id: str) -> _Wait:
    for _ in range(MAX_VISITS):
        node = call.flow.nodes.get(node_id)
        if node is None:
            raise EngineError(f"flow '{call.flow.name}' has no node '{node_id}'")
        call.path.append(node_id)
        outcome = _ENTER[type(node)](call, node)
        if isinstance(outcome, _Wait):
            return outcome
        node_id = outcome
    raise EngineError(f"flow '{call.flow.name}' passed {MAX_VISITS} nodes without waiting for "
                      f"the caller (last '{node_id}'): it loops")


def _forward(call: _Call, node: Node, ref: Ref | None) -> str:
    """The jump `ref`, or the flow's fallback where a flow that skipped the checks has none."""
    if ref is not None:
        return ref.to
    if call.flow.fallback:
        call.events.append(("fallback", node.id))
        return call.flow.fallback
    raise EngineError(f"{node.kind} '{node.id}' has no way forward and the flow no fallback")


def _local(now: datetime, zone: ZoneInfo | None) -> datetime:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # the app promises aware times; UTC is the safe read
    return now.astimezone(zone) if zone else now


# ---------------------------------------------------------------------------------------------
# Entering a node: the next node id, or how the step ends.


def _enter_prompt(call: _Call, node: PromptNode) -> str:
    if node.when_var:
        value = call.vars.get(node.when_var)
        if not template.var_text(value, call.language, call.flow.default_language).strip():
            return _forward(call, node, node.next)
        if node.prompt is None:
            call.actions += _var_speech(call, value)
    call.actions += prompts.render(call.flow, node.prompt, call.language, call.vars)
    if node.pause:
        call.actions.append(Pause(node.pause))
    return _forward(call, node, node.next)


def _var_speech(call: _Call, value: Any) -> list[Say]:
    """A var's own text (announcements the app injects), in the call's language if it has it."""
    language = call.language
    if isinstance(value, Mapping) and not value.get(language):
        language = call.flow.default_language
    text = template.var_text(value, language, call.flow.default_language).strip()
    return [prompts.say(call.flow, text, language)] if text else []


def _enter_asking(call: _Call, node: MenuNode | CollectNode | LanguageNode) -> _Wait:
    return _Wait(_gather(call, node, []), node.id, False)


def _gather(call: _Call, node: MenuNode | CollectNode | LanguageNode, before: list[Say]) -> Gather:
    """The node's question; `before` holds the "sorry" of a retry."""
    flow, lang = call.flow, call.language
    hints: tuple[str, ...] = ()
    if isinstance(node, CollectNode):
        said = prompts.render(flow, node.prompt, lang, call.vars)
        size = node.max_length if node.min_length == node.max_length else None
        finish = "#"
    else:
        said = (prompts.render_all(flow, node.prompt, call.vars) if isinstance(node, LanguageNode)
                else prompts.render(flow, node.prompt, lang, call.vars))
        keys = {*node.options, *getattr(node, "choices", ())}
        hints = tuple(node.keywords.get(lang, {})) if isinstance(node, MenuNode) else ()
        size, finish = 1, "" if "#" in keys else "#"  # '#' as a choice cannot end the input
    listens = bool(hints) or isinstance(node, CollectNode) and node.speech
    return Gather(prompts=(*before, *said), input="dtmf speech" if listens else "dtmf",
                  num_digits=size, timeout=node.timeout, finish_on_key=finish,
                  language=flow.tag(lang), hints=hints)


def _enter_hours(call: _Call, node: HoursNode) -> str:
    local = _local(call.now, node.timezone or call.flow.timezone)
    holiday = node.holidays.get(local.date())
    if holiday is not None:
        call.events += [("hours", "closed"), ("holiday", holiday or local.date().isoformat())]
        return _forward(call, node, node.holiday or node.closed)
    is_open = schedule.is_open(node.schedule, local)
    call.events.append(("hours", "open" if is_open else "closed"))
    return _forward(call, node, node.open if is_open else node.closed)


def _enter_branch(call: _Call, node: BranchNode) -> str:
    local = _local(call.now, node.timezone or call.flow.timezone)
    for case in node.cases:
        if conditions.holds(case.test, call.vars, call.language, call.flow.default_language,
                            local):
            target = _forward(call, node, case.then)
            call.events.append(("branch", f"{node.id}:{target}"))
            return target
    return _forward(call, node, node.otherwise)


def _enter_set(call: _Call, node: SetNode) -> str:
    for name, value in node.values.items():
        if value is None:
            call.vars.pop(name, None)
        else:
            call.vars[name] = template.render(value, call.vars, call.language,
                                              call.flow.default_language)
    return _forward(call, node, node.next)


def _enter_queue(call: _Call, node: QueueNode) -> _Wait:
    flow, lang = call.flow, call.language
    call.actions += prompts.render(flow, node.prompt, lang, call.vars)
    skills = node.skills
    if node.language_skill and lang != flow.default_language and f"lang:{lang}" not in skills:
        skills += (f"lang:{lang}",)
    overflow = node.overflow.to if node.overflow else flow.fallback or node.id
    enqueue = Enqueue(queue_class=node.queue_class, priority=node.priority, skills=skills,
                      language=flow.tag(lang), overflow=overflow,
                      voicemail=node.voicemail.to if node.voicemail else None,
                      self_service=node.self_service.to if node.self_service else None)
    call.events.append(("queue", node.queue_class))
    return _Wait(enqueue, node.id, True)


def _enter_transfer(call: _Call, node: TransferNode) -> _Wait:
    call.actions += prompts.render(call.flow, node.prompt, call.language, call.vars)
    call.events.append(("transfer", node.to_line or node.number or ""))
    transfer = Transfer(line=node.to_line, number=node.number, timeout=node.timeout,
                        reason=node.reason)
    return _Wait(transfer, node.id, True)


def _enter_record(call: _Call, node: RecordNode) -> _Wait:
    call.actions += prompts.render(call.flow, node.prompt, call.language, call.vars)
    return _Wait(Record(max_length=node.max_length, timeout=node.timeout,
                        play_beep=node.play_beep), node.id, False)


def _enter_hangup(call: _Call, node: HangupNode) -> _Wait:
    call.actions += prompts.render(call.flow, node.prompt, call.language, call.vars)
    return _Wait(Hangup(), None, True)


def _enter_app(call: _Call, node: LookupNode | SubmitNode) -> _Wait:
    """Ask the app; the call stands at this node until the app's answer resumes it."""
    call.actions += prompts.render(call.flow, node.prompt, call.language, call.vars)
    args = {name: template.render(text, call.vars, call.language, call.flow.default_language)
            for name, text in node.args.items()}
    action = (Lookup if isinstance(node, LookupNode) else Submit)(name=node.name, args=args)
    call.events.append((node.kind, node.name))
    return _Wait(action, node.id, False)


_ENTER: dict[type, Callable[[_Call, Any], str | _Wait]] = {
    PromptNode: _enter_prompt, MenuNode: _enter_asking, CollectNode: _enter_asking,
    LanguageNode: _enter_asking, HoursNode: _enter_hours, BranchNode: _enter_branch,
    SetNode: _enter_set, GotoNode: lambda call, node: _forward(call, node, node.to),
    QueueNode: _enter_queue, TransferNode: _enter_transfer, RecordNode: _enter_record,
    HangupNode: _enter_hangup, LookupNode: _enter_app, SubmitNode: _enter_app,
}


# ---------------------------------------------------------------------------------------------
# Resuming a waiting node: a node id to walk on from, or how the step ends.


def _retry(call: _Call, node: MenuNode | CollectNode | LanguageNode, attempts: int, which: str,
           detail: str) -> str | _Wait:
    """Ask again with a "sorry" first, or give up on this node after its retries."""
    call.events.append(("no-input" if which == "no_input" else "invalid", detail))
    attempts += 1
    if attempts <= node.retries:
        sorry = prompts.sorry(call.flow, node, which, call.language)
        return _Wait(_gather(call, node, [sorry]), node.id, False, attempts)
    call.events.append(("failed", node.id))
    if isinstance(node, LanguageNode):
        return _forward(call, node, node.next)
    on_no_input = node.on_no_input if which == "no_input" else None
    return _forward(call, node, on_no_input or node.on_fail)


def _choose(call: _Call, node: Node, key: str, ref: Ref, kind: str = "menu") -> str:
    call.path.append(f"{node.id}:{key}")
    call.events.append((kind, f"{node.id}:{key}"))
    return ref.to


def _heard(call: _Call, node: MenuNode, answer: Answer) -> bool:
    threshold = call.flow.min_confidence if node.min_confidence is None else node.min_confidence
    return answer.confidence is None or answer.confidence >= threshold


def _resume_menu(call: _Call, node: MenuNode, answer: Answer, attempts: int) -> str | _Wait:
    if answer.event != "gather":
        return _retry(call, node, attempts, "invalid", f"{node.id}:{answer.event[:20]}")
    if answer.digits:
        if answer.digits in node.options:
            return _choose(call, node, answer.digits, node.options[answer.digits])
        return _retry(call, node, attempts, "invalid", f"{node.id}:{answer.digits[:20]}")
    if not answer.speech:
        return _retry(call, node, attempts, "no_input", node.id)
    if _heard(call, node, answer):
        found = speech.match_keyword(answer.speech, node.keywords.get(call.language, {}))
        if found:
            return _choose(call, node, found[0], found[1])
        key = speech.spoken_key(answer.speech)
        if key in node.options:
            return _choose(call, node, key, node.options[key])  # type: ignore[index]
    return _retry(call, node, attempts, "invalid", f"{node.id}:\"{answer.speech[:40]}\"")


_SPOKEN_DIGITS = re.compile(r"[0-9][0-9 .,-]*")


def _resume_collect(call: _Call, node: CollectNode, answer: Answer,
                    attempts: int) -> str | _Wait:
    if answer.event != "gather":
        return _retry(call, node, attempts, "invalid", f"{node.id}:{answer.event[:20]}")
    digits = answer.digits
    if not digits and _SPOKEN_DIGITS.fullmatch(answer.speech):
        digits = re.sub(r"[^0-9]", "", answer.speech)  # "1 8 0 0 2" from a recogniser
    if not digits:
        return _retry(call, node, attempts, "no_input", node.id)
    valid = (re.fullmatch(r"[0-9]+", digits) is not None
             and node.min_length <= len(digits) <= node.max_length
             and (node.pattern is None or node.pattern.fullmatch(digits) is not None))
    if not valid:
        return _retry(call, node, attempts, "invalid", f"{node.id}:{digits[:20]}")
    call.vars[node.into] = digits
    call.events.append(("collected", f"{node.into}={digits}"))
    return _forward(call, node, node.next)


def _resume_language(call: _Call, node: LanguageNode, answer: Answer,
                     attempts: int) -> str | _Wait:
    key = answer.digits
    if not key and answer.speech:
        key = speech.spoken_key(answer.speech) or ""
    if answer.event == "gather" and key in node.choices:
        call.language = node.choices[key]
        call.path.append(f"{node.id}:{key}")
        call.events.append(("language", call.language))
        return _forward(call, node, node.next)
    if answer.event == "gather" and key in node.options:
        return _choose(call, node, key, node.options[key])
    if answer.event == "gather" and not answer.digits and not answer.speech:
        # Staying on the line is how callers choose the default language.
        call.events += [("no-input", node.id), ("language", call.language)]
        return _forward(call, node, node.next)
    detail = answer.digits or answer.speech or answer.event
    return _retry(call, node, attempts, "invalid", f"{node.id}:{detail[:20]}")


def _resume_record(call: _Call, node: RecordNode, answer: Answer, attempts: int) -> str:
    if answer.event == "record" and answer.recording_url:
        call.vars[node.into] = answer.recording_url
        if answer.recording_seconds is not None:
            call.vars["recording_seconds"] = str(answer.recording_seconds)
        call.events.append(("recorded", answer.recording_url))
    else:
        call.events.append(("no-recording", node.id))
    return _forward(call, node, node.next)


def _resume_queue(call: _Call, node: QueueNode, answer: Answer, attempts: int) -> str:
    refs = {"overflow": node.overflow, "voicemail": node.voicemail,
            "self-service": node.self_service}
    if answer.event in refs:
        call.events.append((answer.event, node.id))
        ref = refs[answer.event]
        return ref.to if ref else call.flow.fallback or node.id
    # Anything else means the caller is out of the queue for no stated reason: back in line.
    call.events.append(("unexpected", f"{node.id}:{answer.event[:20]}"))
    return node.id


def _resume_transfer(call: _Call, node: TransferNode, answer: Answer, attempts: int) -> str:
    call.events.append(("transfer-failed", node.id))
    return _forward(call, node, node.on_fail)


def misses_var(node_id: str) -> str:
    """The var counting a lookup's "nothing found" answers in this call (not a var name a text
    can speak, so a flow cannot clash with it)."""
    return f"misses:{node_id}"


def _resume_app(call: _Call, node: LookupNode | SubmitNode, answer: Answer,
                attempts: int) -> str:
    if answer.event == "result":
        prefix = f"{node.into}_" if node.into else ""
        for name, value in answer.result.items():
            call.vars[prefix + name] = value
        call.vars.pop(misses_var(node.id), None)
        call.events.append(("result", node.id))
        return _forward(call, node, node.next)
    if answer.event == "no-result" and isinstance(node, LookupNode):
        key = misses_var(node.id)
        misses = _count(call.vars.get(key)) + 1
        call.vars[key] = str(misses)
        call.events.append(("not-found", f"{node.id}:{misses}"))
        if misses > node.retries:
            call.events.append(("failed", node.id))
            return _forward(call, node, node.on_fail or node.error)
        return _forward(call, node, node.not_found or node.error)
    # An app error, a submit that found nothing to make, or an event that makes no sense here.
    call.events.append(("app-error", f"{node.id}:{answer.event[:20]}"))
    return _forward(call, node, node.error)


def _count(value: Any) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


_RESUME: dict[type, Callable[[_Call, Any, Answer, int], str | _Wait]] = {
    MenuNode: _resume_menu, CollectNode: _resume_collect, LanguageNode: _resume_language,
    RecordNode: _resume_record, QueueNode: _resume_queue, TransferNode: _resume_transfer,
    LookupNode: _resume_app, SubmitNode: _resume_app,
}
