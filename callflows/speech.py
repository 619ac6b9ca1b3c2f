"""Matching what a caller said against a menu's keywords and keys.

Speech recognisers return punctuation, capitals and, in Spanish, accents inconsistently
("Bache.", "la farola", "emergéncia"), so both sides are normalised before a whole-word match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")

# Said instead of pressed: the recogniser often returns "1" for "one", but not always.
_KEY_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "star": "*", "pound": "#",
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9", "asterisco": "*", "numeral": "#",
}
_KEY_LEADS = {"press", "number", "option", "oprimir", "oprima", "marque", "numero", "opcion", "el"}


def normalize(text: str) -> str:
    """Lower case, no accents, words separated by single spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9*#]+", " ", plain).split())


def _phrase_pattern(words: str) -> re.Pattern[str]:
    # Whole words, each also in a simple plural ("potholes", "baches").
    plural = " ".join(re.escape(word) + "(?:e?s)?" for word in words.split())
    return re.compile(rf"(?<![a-z0-9]){plural}(?![a-z0-9])")


def match_keyword(speech: str, keywords: Mapping[str, T]) -> tuple[str, T] | None:
    """(keyword, target) of the first keyword, in written order, found as whole words in
    `speech`. Written order is the supervisor's priority: specific words go before general ones
    ("pothole" before "report"), so "report a pothole" finds the pothole."""
    heard = normalize(speech)
    for phrase, target in keywords.items():
        words = normalize(phrase)
        if words and _phrase_pattern(words).search(heard):
            return words, target
    return None


def spoken_key(speech: str) -> str | None:
    """A single phone key said aloud ("1", "two", "press 9", "el nueve"), else None."""
    words = normalize(speech).split()
    while len(words) > 1 and words[0] in _KEY_LEADS:
        words = words[1:]
    if len(words) != 1:
        return None
    word = words[0]
    if len(word) == 1 and word in "0123456789*#":
        return word
    return _KEY_WORDS.get(word)
