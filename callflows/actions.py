"""What the engine asks the telephony layer to do.

The engine never speaks TwiML: it returns these plain values, and `ivr/telephony/twiml.py` renders
them. A step's action list ends in exactly one *terminal* action: an action that either waits for
the caller (`Gather`, `Record`) or hands the call on (`Enqueue`, `Transfer`, `Hangup`). `Say`,
`Play` and `Pause` only ever come before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Say:
    """Speak `text` with a text-to-speech voice in `language` (a BCP-47 tag such as ``es-US``)."""

    text: str
    language: str = "en-US"
    voice: str | None = None


@dataclass(frozen=True)
class Play:
    """Play an audio file by URL (absolute, or relative to the app's public URL)."""

    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    """Play `prompts` while collecting DTMF and/or speech; the answer comes back as `Input`.

    `input` is ``"dtmf"`` or ``"dtmf speech"``. `num_digits` None means "until `finish_on_key`
    or timeout". When the caller gives nothing, the engine receives an `Input` with no digits
    and no speech (the renderer guarantees the callback: the caller is never dropped).
    """

    prompts: tuple[Prompt, ...]
    input: str = "dtmf"
    num_digits: int | None = None
    timeout: int = 5
    finish_on_key: str = "#"
    language: str = "en-US"
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Record:
    """Record a message after a beep; the engine resumes with `Input.recording_url`."""

    max_length: int = 120
    timeout: int = 5
    finish_on_key: str = "#"
    play_beep: bool = True


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in a waiting queue of `queue_class`.

    `skills` are the requirements a call-taker must hold (e.g. ``("lang:es", "line:311")``).
    `overflow` names the node the engine resumes at when the queue is full or the wait too long
    (the app then calls `engine.resume` with `Input(event="overflow")`); `voicemail` the node it
    resumes at when a waiting caller chooses to leave a message (`Input(event="voicemail")`);
    `self_service` the node it resumes at when a caller who cannot be answered (nobody on duty)
    chooses to help themselves instead (`Input(event="self-service")`).
    """

    queue_class: str
    priority: int = 5
    skills: tuple[str, ...] = ()
    language: str = "en-US"
    overflow: str | None = None
    voicemail: str | None = None
    self_service: str | None = None


@dataclass(frozen=True)
class Transfer:
    """Hand the call to another line of this center (`line`, e.g. ``"911"``) or an outside number.

    Exactly one of `line` and `number` is set. `reason` is recorded with the transfer (for
    instance ``"menu-emergency"``).
    """

    line: str | None = None
    number: str | None = None
    timeout: int = 30
    reason: str = ""


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Lookup:
    """Ask the application for data `name` with `args` (texts already filled from vars).

    The app answers at once, inside the same webhook, by resuming the engine with
    ``Input(event="result", result={...})``, ``Input(event="no-result")`` or
    ``Input(event="app-error")``. `Submit` is the same exchange for making something; the two
    are apart so an app can refuse to let a lookup write.
    """

    name: str
    args: dict[str, str]


@dataclass(frozen=True)
class Submit:
    """Ask the application to make something (a service request) from `args`; see `Lookup`."""

    name: str
    args: dict[str, str]


AppStep = Lookup | Submit
Terminal = Gather | Record | Enqueue | Transfer | Hangup | Lookup | Submit
Action = Prompt | Terminal


@dataclass(frozen=True)
class Input:
    """What came back from the caller or the network since the last step.

    `event` tells which: ``"gather"`` (digits/speech, both None on no input), ``"record"``,
    ``"overflow"`` (the queue refused the caller), ``"voicemail"`` (a waiting caller asked to leave
    a message), ``"self-service"`` (a waiting caller chose the flow's self-service paths),
    ``"transfer-failed"``; for a `Lookup` or `Submit`: ``"result"`` (with `result`,
    the answer's fields: text, or text per language key), ``"no-result"``, ``"app-error"``.
    """

    event: str = "gather"
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    recording_url: str | None = None
    recording_seconds: int | None = None
    result: Mapping[str, Any] | None = None
