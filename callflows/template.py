"""``{var}`` interpolation in spoken text.

``{name}`` speaks a var, ``{name|digits}`` speaks it one character at a time (so text-to-speech
reads ``12345`` as "one two three four five", not "twelve thousand ..."); ``{name|grouped}`` says
a number in words, in groups as people read it ("two six, oh oh oh one, two three four five");
``{name|phone}`` says a phone number as people say it at home, in national format and without
the country code ("four one oh, five five five, oh one double oh"). ``{{`` and ``}}`` are
literal braces. A var that is missing speaks as nothing; a var holding a mapping of language keys
(``{"en": ..., "es": ...}``, as the app injects announcements) speaks the call's language, else the
flow's default language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers

from callflows import spoken

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _digits(value: str, language: str, values: Mapping[str, Any]) -> str:
    return " ".join(ch for ch in value if ch.isalnum())


def _region(values: Mapping[str, Any]) -> str:
    """The country a national number belongs to: the dialed line's, else the US."""
    try:
        dialed = phonenumbers.parse(str(values.get("dialed") or ""), None)
    except phonenumbers.NumberParseException:
        return "US"
    return phonenumbers.region_code_for_number(dialed) or "US"


FILTERS: dict[str, Callable[[str, str, Mapping[str, Any]], str]] = {
    "digits": _digits,
    "grouped": lambda value, language, values: spoken.grouped(value, language),
    "phone": lambda value, language, values: spoken.phone(value, language, _region(values)),
}


def problems(text: str) -> list[str]:
    """What is wrong with the ``{...}`` fields of `text`, as sentences (empty when fine)."""
    found = []
    for match in _FIELD.finditer(text):
        token = match[0]
        if token in ("{{", "}}"):
            continue
        if match[1] is None:
            found.append(f"a lone '{token}' (write {token}{token} for a literal brace)")
            continue
        name, _, filt = match[1].strip().partition("|")
        if not _NAME.fullmatch(name.strip()):
            found.append(f"'{token}' does not name a var (write {{name}} or {{name|digits}})")
        elif filt and filt.strip() not in FILTERS:
            found.append(f"'{token}' uses unknown filter '{filt.strip()}' "
                         f"(known: {', '.join(FILTERS)})")
    return found


def var_text(value: Any, language: str, default_language: str) -> str:
    """A var as text to speak: per-language mappings pick a language; None is empty."""
    if isinstance(value, Mapping):
        value = value.get(language, value.get(default_language, ""))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(text: str, values: Mapping[str, Any], language: str, default_language: str) -> str:
    """Fill the fields of `text`. Never raises: unknown fields speak as nothing."""

    def field(match: re.Match[str]) -> str:
        token = match[0]
        if token in ("{{", "}}"):
            return token[0]
        if match[1] is None:
            return ""
        name, _, filt = match[1].strip().partition("|")
        value = var_text(values.get(name.strip()), language, default_language)
        transform = FILTERS.get(filt.strip())
        return transform(value, language, values) if transform else value

    return _FIELD.sub(field, text)
