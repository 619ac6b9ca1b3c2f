"""The safe answer: what a caller hears when the engine itself failed.

Built from settings alone (no Redis, no SQL, no flow), so it works whatever broke: an apology,
then a human (the fallback number when one is set), else a place in the Twilio queue that the
safe answer parks callers in.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ivr.platform.config import Settings
from ivr.telephony.speech import say_in

SORRY = {
    "en": "We are sorry, we are having trouble with this line. Please hold for the next "
          "available call-taker.",
    "es": "Lo sentimos, tenemos problemas con esta línea. Por favor espere al próximo agente "
          "disponible.",
}
STAY = {"en": "Please stay on the line.", "es": "Por favor permanezca en la línea."}


def fallback_queue_name(settings: Settings) -> str:
    """The Twilio queue the safe answer parks callers in."""
    return f"{settings.center}-{settings.fallback_queue}"[:64]


def safe_twiml(settings: Settings) -> VoiceResponse:
    """The answer when the engine itself failed: an apology, then a human."""
    response = VoiceResponse()
    for language, text in SORRY.items():
        say_in(response, language, text)
    if settings.fallback_number:
        response.dial(settings.fallback_number, timeout=60)
    response.enqueue(fallback_queue_name(settings),
                     wait_url=f"{settings.public_url}/voice/fallback/wait",
                     wait_url_method="POST")
    return response


def safe_hold_twiml() -> VoiceResponse:
    """The safe answer inside a hold loop, where only Say, Play, Pause and the like are allowed."""
    response = VoiceResponse()
    say_in(response, "en", STAY["en"])
    response.pause(length=15)
    return response


def fallback_wait_twiml() -> VoiceResponse:
    """Hold music for callers parked by the safe answer; needs nothing but itself."""
    response = VoiceResponse()
    for language, text in STAY.items():
        say_in(response, language, text)
    response.pause(length=20)
    return response
