"""What a caller chose in a flow, in words a call-taker reads at a glance.

The engine records a call's path as node ids and keys (``welcome:1``, ``main:0``), which mean
nothing to a call-taker. Here each choice becomes the words its menu said for that key, taken
from the menu's own prompt ("To speak with a call-taker, press 0." -> "Speak with a call-taker
(0)"), in the flow's first language (the console's), so a flow needs no extra labels. A spoken
keyword reads as what was said; a language choice as the language's name. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callflows.model import Flow, LanguageNode, MenuNode

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "zh": "Chinese",
                  "vi": "Vietnamese", "ko": "Korean", "ru": "Russian", "ar": "Arabic",
                  "ht": "Haitian Creole", "pt": "Portuguese", "tl": "Tagalog"}

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PRESS = re.compile(r",?\s*(?:or\s+|u\s+|o\s+)?(?:press|oprima(?:\s+el)?|marque(?:\s+el)?|dial)"
                    r"\s+(?:the\s+)?[0-9*#]+(?:\s+(?:now|ahora))?", re.IGNORECASE)
_LEAD = re.compile(r"^(?:to|for|if|para|por|si)\s+", re.IGNORECASE)
MAX_WORDS = 48


def described(flow: Flow, path: Sequence[str]) -> list[str]:
    """Each choice of `path` (entries ``node:key``; plain node ids are skipped) in words."""
    out = []
    for step in path:
        node_id, sep, key = step.partition(":")
        if not sep:
            continue
        out.append(choice(flow, node_id, key))
    return out


def choice(flow: Flow, node_id: str, key: str) -> str:
    node = flow.nodes.get(node_id)
    if isinstance(node, LanguageNode) and key in node.choices:
        code = node.choices[key]
        return f"{LANGUAGE_NAMES.get(code[:2], code)} ({key})"
    if not key.isdigit() and key not in ("*", "#"):
        return f'Said "{key}"'
    if isinstance(node, (MenuNode, LanguageNode)):
        words = _words_for(flow, node, key)
        target = node.options.get(key)
        if words:
            return f"{words} ({key})"
        if target is not None:
            return f"{target.to.replace('_', ' ').capitalize()} ({key})"
    return f"Pressed {key}"


def _words_for(flow: Flow, node: MenuNode | LanguageNode, key: str) -> str:
    """The clause of the node's prompt that offers `key`, without the "press N" part."""
    prompt = node.prompt
    if prompt is None or prompt.say is None:
        return ""
    values = prompt.say.values
    text = values.get(flow.default_language) or next(iter(values.values()), "")
    digit = re.compile(rf"(?<![0-9]){re.escape(key)}(?![0-9])")
    for sentence in _SENTENCE.split(" ".join(text.split())):
        pressed = [m for m in _PRESS.finditer(sentence) if digit.search(m.group(0))]
        if not pressed:
            continue
        words = sentence[:pressed[0].start()] + sentence[pressed[0].end():]
        words = words.strip(" .,;:!?")
        words = _LEAD.sub("", words).split(",")[0].strip()
        if len(words) > MAX_WORDS:
            words = words[:MAX_WORDS].rsplit(" ", 1)[0] + "…"
        return words[:1].upper() + words[1:]
    return ""
