"""A caller waiting for a call-taker: the queue side of a call.

The flow's queue step pushes the call into the Redis priority queue (`queues/`) and answers
`<Enqueue>` into the Twilio queue of its class. Twilio's queue only holds the audio; the order is
ours. Each time the hold loop comes round (the waitUrl), the caller hears their own place in
priority order (not Twilio's FIFO position) and the estimated wait, in their language, then hold
music during which they may press 1 for a callback that keeps their place or 2 to leave a message.
With no call-taker on duty who could answer them (holding the call's skills), an estimate
would be false: they hear that no call-taker is available and what they can still do (callback,
message, and, when the flow has a `self_service` target, 3 to check on a request or file a
report by phone).
911 callers hear neither options nor numbers: only that they must stay on the line, and, once,
after the English words and while already in line, "para español, oprima nueve" (9 switches
the rest of the call to Spanish: `ivr.voice.queued.option`).
"""

from __future__ import annotations

import math
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from callflows.actions import Enqueue
from ivr.platform.config import Settings
from ivr.telephony.adapter import twilio_queue_name
from ivr.telephony.speech import TAGS, VOICES, language_key
from queues import EMERGENCY, Queues

# What a waiting caller hears, per language. Numbers are spoken by the text-to-speech voice.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "position": "You are number {position} in line.",
        "wait_short": "Your wait should be less than a minute.",
        "wait": "Your estimated wait is about {minutes} minutes.",
        "wait_one": "Your estimated wait is about one minute.",
        "options": "To have a call-taker call you back without losing your place in line, "
                   "press 1. To leave a message instead, press 2.",
        "options_no_callback": "To leave a message instead, press 2.",
        "nobody": "No call-takers are available right now, so we cannot tell you how long "
                  "the wait would be.",
        "nobody_callback": "To have a call-taker call you back as soon as one is available, "
                           "press 1.",
        "nobody_message": "To leave a message, press 2.",
        "nobody_self_service": "To check on a request, or to file a report by phone "
                               "yourself, press 3.",
        "hold": "Thank you for waiting. Please stay on the line.",
        "callback": "Thank you. We will call you back at the number you are calling from, "
                    "ending in {last}, when it is your turn. You keep your place in line. Goodbye.",
        "sorry": "Sorry, that is not one of the choices.",
        "emergency": "All 9 1 1 call-takers are helping other callers. Stay on the line. "
                     "Do not hang up.",
        "spanish_offer": "",  # never said: the offer is in Spanish, to English callers
    },
    "es": {
        "position": "Usted es el número {position} en la fila.",
        "wait_short": "Su espera debería ser de menos de un minuto.",
        "wait": "Su tiempo de espera estimado es de unos {minutes} minutos.",
        "wait_one": "Su tiempo de espera estimado es de un minuto.",
        "options": "Para que un agente le devuelva la llamada sin perder su lugar en la fila, "
                   "oprima el 1. Para dejar un mensaje, oprima el 2.",
        "options_no_callback": "Para dejar un mensaje, oprima el 2.",
        "nobody": "En este momento no hay agentes disponibles, así que no podemos decirle "
                  "cuánto tendría que esperar.",
        "nobody_callback": "Para que un agente le devuelva la llamada en cuanto haya uno "
                           "disponible, oprima el 1.",
        "nobody_message": "Para dejar un mensaje, oprima el 2.",
        "nobody_self_service": "Para consultar una solicitud, o para presentar usted mismo un "
                               "reporte por teléfono, oprima el 3.",
        "hold": "Gracias por esperar. Por favor, permanezca en la línea.",
        "callback": "Gracias. Le devolveremos la llamada al número desde el que llama, que "
                    "termina en {last}, cuando sea su turno. Conserva su lugar en la fila. Adiós.",
        "sorry": "Lo sentimos, esa no es una de las opciones.",
        "emergency": "Todos los operadores del 9 1 1 están atendiendo a otras personas. "
                     "Permanezca en la línea. No cuelgue.",
        # Said once, in Spanish, to a 911 caller in line in English: no menu before the line.
        "spanish_offer": "Para español, oprima nueve.",
    },
}


def say(response: Any, language: str, key: str, **values: Any) -> None:
    lang = language_key(language)
    response.say(TEXT[lang][key].format(**values), voice=VOICES[lang], language=TAGS[lang])


def render_enqueue(settings: Settings, response: VoiceResponse, action: Enqueue) -> None:
    base = settings.public_url
    response.enqueue(
        twilio_queue_name(settings, action.queue_class),
        wait_url=f"{base}/voice/queue/wait", wait_url_method="POST",
        action=f"{base}/voice/queue/result", method="POST",
    )


def spoken_wait(seconds: float, language: str) -> tuple[str, dict[str, Any]]:
    if seconds < 60:
        return "wait_short", {}
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return "wait_one", {}
    return "wait", {"minutes": minutes}


SPANISH_KEY = "9"


def wait_document(
    queues: Queues, settings: Settings, call_id: str, entry_class: str, language: str,
    can_call_back: bool, waited: float, now: float, offer_spanish: bool = False,
    on_duty: int = 1, self_service: bool = False,
) -> tuple[VoiceResponse, bool]:
    """The waitUrl answer (only Play, Say, Pause, Gather, Hangup, Redirect, Leave are allowed).

    Returns the document and whether the caller must leave for the overflow step (waited
    `max_wait`). `offer_spanish`: a 911 caller in English hears the Spanish offer this turn. A
    caller no longer in our queue (answered or taken out meanwhile) only hears hold music until
    Twilio moves them. `on_duty` counts the call-takers on duty who could answer this call;
    `self_service` tells whether the flow has somewhere to send a caller who presses 3.
    """
    response = VoiceResponse()
    cls = queues.classes.get(entry_class)
    estimate = queues.estimate_wait(call_id, now)
    if estimate is None:
        say(response, language, "hold")
        response.play(settings.raw.get("hold_music"))
        return response, False
    if cls is not None and cls.max_wait is not None and waited >= cls.max_wait:
        response.leave()
        return response, True
    if entry_class == EMERGENCY:
        say(response, language, "emergency")
        # 9 is heard during the hold music of every turn; the offer itself is said once.
        gather = response.gather(input="dtmf", num_digits=1, timeout=1,
                                 action=f"{settings.public_url}/voice/queue/option",
                                 method="POST")
        if offer_spanish and language_key(language) == "en":
            say(gather, "es", "spanish_offer")
        gather.play(settings.raw.get("hold_music"))
        return response, False
    gather_url = f"{settings.public_url}/voice/queue/option"
    if on_duty <= 0:
        say(response, language, "nobody")
        gather = response.gather(input="dtmf", num_digits=1, timeout=3, action=gather_url,
                                 method="POST")
        for key, offered in (("nobody_callback", can_call_back), ("nobody_message", True),
                             ("nobody_self_service", self_service)):
            if offered:
                say(gather, language, key)
        gather.play(settings.raw.get("hold_music"))
        return response, False
    say(response, language, "position", position=estimate.position)
    key, values = spoken_wait(estimate.seconds, language)
    say(response, language, key, **values)
    gather = response.gather(input="dtmf", num_digits=1, timeout=3, action=gather_url,
                             method="POST")
    say(gather, language, "options" if can_call_back else "options_no_callback")
    gather.play(settings.raw.get("hold_music"))
    return response, False
