"""Numbers said as people say them: phone numbers at home, request numbers in groups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callflows import spoken, template


@pytest.mark.parametrize(("number", "language", "said"), [
    ("+14105550100", "en", "four one oh, five five five, oh one double oh"),
    ("4105550100", "en", "four one oh, five five five, oh one double oh"),
    ("+14105550100", "es", "cuatro uno cero, cinco cinco cinco, cero uno cero cero"),
    ("+18005551212", "en", "eight double oh, five five five, one two one two"),
])
def test_a_phone_number_is_said_in_national_groups(number: str, language: str,
                                                    said: str) -> None:
    assert spoken.phone(number, language) == said


def test_a_number_from_abroad_keeps_its_country_code() -> None:
    assert spoken.phone("+442079460000", "en").startswith("double four, two oh, seven nine")


@pytest.mark.parametrize(("written", "language", "said"), [
    ("26-00012345", "en", "two six, oh oh oh one, two three four five"),
    ("2600012345", "en", "two six, oh oh oh one, two three four five"),
    ("26-00012345", "es", "dos seis, cero cero cero uno, dos tres cuatro cinco"),
    ("12345", "en", "one two, three four five"),
    ("911", "en", "nine double one"),
])
def test_a_request_number_is_said_in_groups(written: str, language: str, said: str) -> None:
    assert spoken.grouped(written, language) == said


def test_the_filters_in_a_flow_text() -> None:
    values = {"caller": "+14105550100", "filed": "26-00012345", "dialed": "+14435550311"}
    said = template.render("At {caller|phone}; number {filed|grouped}.", values, "en", "en")
    assert said == ("At four one oh, five five five, oh one double oh; "
                    "number two six, oh oh oh one, two three four five.")
    assert template.problems("{caller|phone} {filed|grouped}") == []


@given(st.text(alphabet="0123456789", min_size=1, max_size=14))
def test_every_digit_is_said_once_in_order(digits: str) -> None:
    words = dict(zip(spoken.DIGIT_WORDS["en"], "0123456789", strict=True))
    said: list[str] = []
    double = False
    for word in spoken.grouped(digits, "en").replace(",", "").split():
        if word == "double":
            double = True
            continue
        said += [words[word]] * (2 if double else 1)
        double = False
    assert "".join(said) == digits
