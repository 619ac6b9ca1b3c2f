"""Turning a node's prompts into `Say`/`Play` actions in the call's language.

A text missing in the call's language (possible only in flows that skipped the checks, or in vars
the app injects) is spoken from the default language with that language's voice, never in a wrong
accent and never as silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callflows import template
from callflows.actions import Play, Say
from callflows.model import Flow, Node, Prompt, Text

MESSAGE_KINDS = ("invalid", "no_input")

# The "sorry" lines a retry starts with, for flows that do not write their own (`messages:`).
BUILT_IN: dict[str, dict[str, str]] = {
    "invalid": {
        "en": "Sorry, I didn't understand that.",
        "es": "Lo siento, no le entendí.",
    },
    "no_input": {
        "en": "Sorry, I didn't hear anything.",
        "es": "Lo siento, no escuché nada.",
    },
}


def pick(values: Mapping[str, str], flow: Flow, language: str) -> tuple[str, str] | None:
    """(language key, value) in the call's language, else the default one, else None."""
    for lang in (language, flow.default_language, ""):
        if values.get(lang):
            return lang or language, values[lang]
    return None


def say(flow: Flow, text: str, language: str) -> Say:
    return Say(text=text, language=flow.tag(language), voice=flow.voices.get(language))


def speak(flow: Flow, text: str, language: str, values: Mapping[str, Any]) -> list[Say]:
    """`text` with its ``{vars}`` filled; nothing at all when it comes out blank."""
    spoken = template.render(text, values, language, flow.default_language).strip()
    return [say(flow, spoken, language)] if spoken else []


def render(flow: Flow, prompt: Prompt | None, language: str,
           values: Mapping[str, Any]) -> list[Say | Play]:
    """The actions of one prompt in `language`."""
    if prompt is None:
        return []
    if prompt.play is not None:
        found = pick(prompt.play.values, flow, language)
        return [Play(url=found[1])] if found else []
    if prompt.say is not None:
        found = pick(prompt.say.values, flow, language)
        return list(speak(flow, found[1], found[0], values)) if found else []
    return []


def render_all(flow: Flow, prompt: Prompt | None, values: Mapping[str, Any]) -> list[Say | Play]:
    """Every language's text in turn, each in its own voice: the shape of a language menu."""
    if prompt is None or prompt.say is None:
        return render(flow, prompt, flow.default_language, values)
    actions: list[Say | Play] = []
    for lang in flow.languages:
        if prompt.say.values.get(lang):
            actions += speak(flow, prompt.say.values[lang], lang, values)
    return actions


def sorry(flow: Flow, node: Node, which: str, language: str) -> Say:
    """The retry line for `which` ("invalid" or "no_input"): the node's, the flow's, built in."""
    own: Text | None = getattr(node, which, None)
    for values in (own.values if own else {}, flow.messages[which].values
                   if which in flow.messages else {}, BUILT_IN[which]):
        found = pick(values, flow, language) if values else None
        if found:
            return say(flow, found[1], found[0])
    return say(flow, BUILT_IN[which]["en"], "en")
