"""Rendering the engine's actions as TwiML, with twilio's own builder (never string concatenation).

Rules from Twilio's contract that shape this module:
- a Gather with no input falls through to the next verb, so every Gather is followed by a Redirect
  to the same action URL: a silent caller comes back to the engine as "no input", never drops;
- Twilio skips the Record action when nothing was recorded, so Record is followed by a Redirect too;
- `Reject` may only be the first verb; nothing here emits it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from twilio.twiml.voice_response import Gather as TwiGather
from twilio.twiml.voice_response import VoiceResponse

from callflows.actions import (
    Action,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Play,
    Record,
    Say,
    Transfer,
)
from ivr.telephony.speech import VOICES

# Where each waiting action's answer goes: event name -> absolute URL.
UrlFor = Callable[[str], str]


def _say_attrs(say: Say) -> dict[str, str]:
    attrs = {"language": say.language}
    voice = say.voice or VOICES.get(say.language.split("-")[0])
    if voice:
        attrs["voice"] = voice
    return attrs


def add_prompt(target: VoiceResponse | TwiGather, action: Say | Play | Pause) -> None:
    if isinstance(action, Say):
        target.say(action.text, **_say_attrs(action))
    elif isinstance(action, Play):
        target.play(action.url, loop=action.loop if action.loop != 1 else None)
    elif isinstance(action, Pause):
        target.pause(length=action.seconds)


def render(
    actions: Iterable[Action],
    url_for: UrlFor,
    on_enqueue: Callable[[VoiceResponse, Enqueue], None] | None = None,
    on_transfer: Callable[[VoiceResponse, Transfer], None] | None = None,
) -> VoiceResponse:
    """Turn one engine step into a TwiML document.

    Enqueue and Transfer need the app's knowledge (queue names, lines, dial numbers), so the caller
    supplies them as callbacks that append verbs to the response.
    """
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Say | Play | Pause):
            add_prompt(response, action)
        elif isinstance(action, Gather):
            url = url_for("gather")
            gather = response.gather(
                input=action.input,
                action=url,
                method="POST",
                timeout=action.timeout,
                finish_on_key=action.finish_on_key,
                num_digits=action.num_digits,
                language=action.language,
                hints=", ".join(action.hints) if action.hints else None,
                speech_timeout="auto" if "speech" in action.input else None,
            )
            for prompt in action.prompts:
                add_prompt(gather, prompt)
            response.redirect(url, method="POST")
        elif isinstance(action, Record):
            url = url_for("record")
            response.record(
                action=url,
                method="POST",
                max_length=action.max_length,
                timeout=action.timeout,
                finish_on_key=action.finish_on_key,
                play_beep=action.play_beep,
            )
            response.redirect(url, method="POST")
        elif isinstance(action, Enqueue):
            if on_enqueue is None:
                raise ValueError("Enqueue needs an on_enqueue renderer")
            on_enqueue(response, action)
        elif isinstance(action, Transfer):
            if on_transfer is None:
                raise ValueError("Transfer needs an on_transfer renderer")
            on_transfer(response, action)
        elif isinstance(action, Hangup):
            response.hangup()
        else:  # pragma: no cover - the action union is closed
            raise TypeError(f"cannot render {action!r}")
    return response
