"""The languages the engine itself speaks (outside the flows, which name their own voices), and
the Twilio voice and language tag of each. Every room that says something to a caller picks
its voice here, so a caller hears one voice per language whatever part of the engine speaks."""

from __future__ import annotations

from typing import Any

VOICES = {"en": "Polly.Joanna", "es": "Polly.Lupe"}
TAGS = {"en": "en-US", "es": "es-US"}


def language_key(language: str) -> str:
    """The key of a flow language among the engine's own (``es``, ``es-US`` -> ``es``);
    English for any language the engine does not speak."""
    key = (language or "en").split("-")[0].lower()
    return key if key in VOICES else "en"


def say_in(response: Any, language: str, text: str) -> None:
    """Append `text` to a TwiML document (or a Gather), in `language`'s voice."""
    lang = language_key(language)
    response.say(text, voice=VOICES[lang], language=TAGS[lang])
