"""What a caller hears, word for word, in English and Spanish: phone numbers said as people say
them, a request number read once and again on request, a spoken topic named back, an empty
floor that promises no wait, and the self-service paths after hours. The emulator places the
calls through the real app; assertions read the caller's transcript."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ivr.service_requests.models import ServiceRequest
from ivr.sim import answers, hangup, press, record, say, silence, wait
from tests.e2e.floor import Floor
from tests.e2e.helpers import enqueued

ENGLISH, SPANISH = press("1"), press("2")
THEN_HANG_UP = [wait(60), hangup()]
# Monday 23 November 2026, 21:00 in New York: the 311 line is closed.
NIGHT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

HEARD = {
    "en": {
        "callback": "We can call you back at four one oh, five five five, oh one double oh.",
        "read_back": "We will call you back at four one oh, five five five, oh one double nine.",
        "number": "Your request number is {number}. To hear it again, press 1.",
        "nobody": "No call-takers are available right now, so we cannot tell you how long the "
                  "wait would be.",
        "nobody_options": "To have a call-taker call you back as soon as one is available, "
                          "press 1. To leave a message, press 2. To check on a request, or to "
                          "file a report by phone yourself, press 3.",
        "status": "Please enter or say your service request number, then press pound.",
        "dash": "If yours is written with a dash, enter only the digits.",
        "after_hours": "To leave a message, press 1. To check on a request you already made, "
                       "press 2. To file a report about a pothole, a streetlight or a missed "
                       "trash pickup by phone, press 3.",
        "pothole_position": "Where in the street is the pothole?",
        "noise": "A noise complaint, is that right?",
        "dog": "dog barking all night",
        "yes": "yes",
    },
    "es": {
        "callback": "Podemos devolverle la llamada al cuatro uno cero, cinco cinco cinco, cero "
                    "uno cero cero.",
        "read_back": "Le devolveremos la llamada al cuatro uno cero, cinco cinco cinco, cero uno "
                     "nueve nueve.",
        "number": "Su número de solicitud es {number}. Para escucharlo de nuevo, oprima el 1.",
        "nobody": "En este momento no hay agentes disponibles, así que no podemos decirle "
                  "cuánto tendría que esperar.",
        "nobody_options": "Para que un agente le devuelva la llamada en cuanto haya uno "
                          "disponible, oprima el 1. Para dejar un mensaje, oprima el 2. Para "
                          "consultar una solicitud, o para presentar usted mismo un reporte por "
                          "teléfono, oprima el 3.",
        "status": "Por favor, marque o diga el número de su solicitud de servicio y luego "
                  "oprima la tecla numeral.",
        "dash": "Si el suyo está escrito con un guion, marque solo los números.",
        "after_hours": "Para dejar un mensaje, oprima el 1. Para consultar una solicitud que ya "
                       "hizo, oprima el 2. Para presentar por teléfono un reporte de un bache, "
                       "una farola o basura que no recogieron, oprima el 3.",
        "pothole_position": "¿Dónde está el bache?",
        "noise": "Una queja por ruido, ¿es correcto?",
        "dog": "un perro ladrando toda la noche",
        "yes": "sí",
    },
}
LANGUAGES = [pytest.param("en", ENGLISH, id="en"), pytest.param("es", SPANISH, id="es")]


def said_number(number: str, lang: str) -> str:
    """A request number "26-00000042" as the caller hears it, written out digit by digit here
    (not by the code under test): groups of the written number, long ones in fours."""
    words = {"en": ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight",
                    "nine"],
             "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
                    "nueve"]}[lang]
    year, serial = number.split("-")
    groups = [year, serial[:4], serial[4:]]
    out = []
    for group in groups:
        runs = [(digit, len(list(run))) for digit, run in itertools.groupby(group)]
        spoken: list[str] = []
        for digit, n in runs:  # English pairs are "double"; three alike are said one by one
            word = words[int(digit)]
            spoken += [f"double {word}"] * (n // 2) if lang == "en" and n % 2 == 0 else [word] * n
        out.append(" ".join(spoken))
    return ", ".join(out)


@pytest.mark.parametrize(("lang", "language"), LANGUAGES)
def test_phone_numbers_and_the_new_request_number(center, lang, language) -> None:
    """Filing a pothole: the caller's own number said in national groups, another number read
    back, the new request number read once, then again when asked, never with a dash."""
    call = center.call([language, press("1"), press("1"), press("1"),  # report, pothole, file
                        press("3"), record(5),                        # crosswalk; the address
                        press("2"), press("4105550199#"),             # another number ...
                        press("1"),                                   # ... read back: right
                        press("1", after=2),                          # the number again
                        silence(), wait(10)])
    center.run()
    text = call.heard_text()
    assert not call.application_error
    assert HEARD[lang]["callback"] in text and HEARD[lang]["read_back"] in text
    assert "one four one oh" not in text and "uno cuatro uno cero" not in text  # no +1
    with center.services.sessions() as session:
        request, = session.scalars(select(ServiceRequest).where(
            ServiceRequest.call_sid == call.sid)).all()
        number = request.number or ""
        assert request.callback_number == "+14105550199"
    said = HEARD[lang]["number"].format(number=said_number(number, lang))
    assert text.count(said) == 2  # once, then once more because the caller pressed 1
    assert text.count(said_number(number, lang)) == 2
    assert "dash" not in text and "guion" not in text
    assert text.rstrip().endswith(("Goodbye.", "Adiós."))


@pytest.mark.parametrize(("lang", "language"), LANGUAGES)
def test_the_dash_is_mentioned_only_to_a_caller_who_keyed_something_else(center, lang,
                                                                         language) -> None:
    call = center.call([language, press("2"), press("26*00000042#"), *THEN_HANG_UP])
    center.run()
    text = call.heard_text()
    assert HEARD[lang]["status"] in text
    first_ask = text.split(HEARD[lang]["status"], 1)[1]
    assert HEARD[lang]["dash"] in first_ask  # after the keyed star, not before
    assert HEARD[lang]["dash"] not in text.split(HEARD[lang]["status"], 1)[0]
    assert text.count(HEARD[lang]["dash"]) == 1


@pytest.mark.parametrize(("lang", "language"), LANGUAGES)
def test_a_spoken_topic_is_named_back(center, lang, language) -> None:
    call = center.call([language, say(HEARD[lang]["dog"]), say(HEARD[lang]["yes"]),
                        *THEN_HANG_UP])
    center.run()
    assert HEARD[lang]["noise"] in call.heard_text()
    skills = {"line:311", "topic:noise"} | ({"lang:es"} if lang == "es" else set())
    assert enqueued(center, call.sid) == ("general", skills)


@pytest.mark.parametrize(("lang", "language"), LANGUAGES)
def test_an_empty_floor_promises_no_wait_and_offers_what_remains(center, lang,
                                                                language) -> None:
    call = center.call([language, press("0"), press("3", after=1),  # nobody there: self-service
                        press("2"), *THEN_HANG_UP])                  # check on a request
    center.run()
    text = call.heard_text()
    assert HEARD[lang]["nobody"] in text and HEARD[lang]["nobody_options"] in text
    for estimate in ("in line", "estimated wait", "less than a minute", "en la fila",
                     "tiempo de espera estimado"):
        assert estimate not in text
    assert HEARD[lang]["status"] in text.split(HEARD[lang]["nobody_options"], 1)[1]
    assert center.services.queues.position(call.sid, center.clock.now().timestamp()) is None


@pytest.mark.parametrize(("lang", "language", "ending"), [
    pytest.param("en", ENGLISH, "ending in oh one double oh, when it is your turn.", id="en"),
    pytest.param("es", SPANISH, "que termina en cero uno cero cero, cuando sea su turno.",
                 id="es")])
def test_a_callback_from_an_empty_floor_names_the_number_as_people_say_it(
        center, lang, language, ending) -> None:
    call = center.call([language, press("0"), press("1", after=1)])
    center.run()
    assert HEARD[lang]["nobody"] in call.heard_text() and ending in call.heard_text()
    assert center.services.queues.position(call.sid, center.clock.now().timestamp()) == 1


def test_only_call_takers_who_could_answer_count(center) -> None:
    """An English-only call-taker on duty is nobody for a Spanish caller: no false estimate."""
    floor = Floor(center)
    floor.login("alice", ("line:311",), phone=answers(after=3, hangup_after=3000))
    english = center.call([ENGLISH, press("0"), wait(600), hangup()])
    waiting = center.call([ENGLISH, press("0"), wait(600), hangup()], caller="+14105550101",
                          at=2)
    spanish = center.call([SPANISH, press("0"), wait(600), hangup()], caller="+14105550102",
                          at=4)
    center.sim.run(until=150)
    assert floor.state("alice") == "on_call" and english.heard_text()
    assert "You are number 1 in line." in waiting.heard_text()
    assert HEARD["en"]["nobody"] not in waiting.heard_text()
    assert HEARD["es"]["nobody"] in spanish.heard_text()
    assert "en la fila" not in spanish.heard_text()


@pytest.mark.parametrize(("lang", "language"), LANGUAGES)
def test_after_hours_offers_the_self_service_paths(center_factory, lang, language) -> None:
    center = center_factory(start=NIGHT)
    status = center.call([language, press("2"), *THEN_HANG_UP])
    report = center.call([language, press("3"), press("1"), *THEN_HANG_UP],
                         caller="+14105550101")
    center.run()
    assert HEARD[lang]["after_hours"] in status.heard_text()
    assert HEARD[lang]["status"] in status.heard_text()
    assert HEARD[lang]["pothole_position"] in report.heard_text()
    assert not status.application_error and not report.application_error
