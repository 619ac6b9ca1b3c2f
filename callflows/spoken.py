"""Numbers as people say them on the phone, written out in words.

A text-to-speech voice given ``4105550100`` says "four billion ...", and given ``4 1 0 5 5 5 ...``
says ten digits in one breath. People group a number and pause between groups: "four one oh,
five five five, oh one double oh". The words are written here rather than left to SSML
``<say-as>``, because Twilio's voices read ``say-as telephone`` differently (and some not at all),
while written words sound the same on every voice and are what the caller hears, exactly.

English says "oh" for a zero and "double" for a pair inside a group; Spanish reads each digit
("cuatro uno cero, cinco cinco cinco, cero uno cero cero"), as Spanish-speaking callers expect.
"""

from __future__ import annotations

import re
from itertools import groupby

import phonenumbers

DIGIT_WORDS = {
    "en": ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
}
_DOUBLE = {"en": "double"}
_GROUP = 4  # the longest group a listener keeps in mind at once


def _lang(language: str) -> str:
    key = (language or "en").split("-")[0].lower()
    return key if key in DIGIT_WORDS else "en"


def group_words(group: str, language: str) -> str:
    """One group of characters in words; letters are spelled as they are."""
    lang = _lang(language)
    words = DIGIT_WORDS[lang]
    double = _DOUBLE.get(lang)
    out: list[str] = []
    for ch, run in groupby(group):
        n = len(list(run))
        word = words[int(ch)] if ch.isdigit() else ch.upper()
        # "double oh" for a pair; three alike are said one by one ("five five five")
        if double and n % 2 == 0:
            out += [f"{double} {word}"] * (n // 2)
        else:
            out += [word] * n
    return " ".join(out)


def split_groups(text: str) -> list[str]:
    """The groups of a written number: its own separators ("26-00012345" -> 26, 00012345), and
    a group longer than four split into fours from the right (00012345 -> 0001, 2345)."""
    groups: list[str] = []
    for part in re.findall(r"[0-9A-Za-z]+", text):
        head = len(part) % _GROUP
        chunks = []
        if head == 1 and len(part) > _GROUP:  # no lone digit first: 12345 is "12, 345"
            chunks, head = [part[:2], part[2:5]], 5
        elif head:
            chunks = [part[:head]]
        chunks += [part[i:i + _GROUP] for i in range(head, len(part), _GROUP)]
        groups += chunks
    return groups


def grouped(text: str, language: str) -> str:
    """A written number (a request number, a code) in words, groups separated by commas."""
    return ", ".join(group_words(g, language) for g in split_groups(text))


def phone(text: str, language: str, region: str = "US") -> str:
    """A phone number as said at home: national format, no country code, grouped
    ("+14105550100" -> "four one oh, five five five, oh one double oh"). A number from another
    country keeps its country code, said first; text that is no phone number is read grouped."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return grouped(text, language)
    if not phonenumbers.is_possible_number(number):
        return grouped(text, language)
    home = number.country_code == phonenumbers.country_code_for_region(region)
    written = phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.NATIONAL if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = re.findall(r"[0-9]+", written)
    return ", ".join(group_words(g, language) for g in groups)
