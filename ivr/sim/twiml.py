"""Parse the TwiML an app returns into plain verb values, as Twilio reads it.

Defaults follow `reference/TWILIO.md`. A body that is not XML, or whose root is not
`<Response>`, raises `TwimlError` (Twilio error 12100: the call then goes to the fallback URL).
An unknown verb or attribute, or a verb nested where Twilio does not allow it, is skipped and
noted as a 12200 warning on the `Document`, which is also what Twilio does.

The list of known verbs and attributes is read from twilio's own `twilio.twiml.voice_response`
(the "machine list" the contract names), so a new attribute there is known here too.
"""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from twilio.twiml import TwiML, lower_camel
from twilio.twiml import voice_response as vr

DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."


class TwimlError(Exception):
    """The document cannot be executed at all (Twilio error 12100)."""

    code = 12100


# --- verbs and nouns -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    voice: str = "man"
    language: str = "en-US"
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Play:
    url: str
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    length: float = 1.0


Prompt = Say | Play | Pause


@dataclass(frozen=True, slots=True)
class Gather:
    prompts: tuple[Prompt, ...] = ()
    input: frozenset[str] = frozenset({"dtmf"})
    action: str | None = None
    method: str = "POST"
    timeout: float = 5.0
    finish_on_key: str = "#"
    num_digits: int | None = None
    action_on_empty_result: bool = False
    language: str = "en-US"
    hints: str = ""
    speech_timeout: str | None = None  # "auto", a number of seconds, or None (= timeout)


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Leave:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class Record:
    action: str | None = None
    method: str = "POST"
    timeout: float = 5.0
    finish_on_key: str = "1234567890*#"
    max_length: float = 3600.0
    play_beep: bool = True


@dataclass(frozen=True, slots=True)
class Enqueue:
    name: str
    action: str | None = None
    method: str = "POST"
    wait_url: str | None = None  # None: Twilio's default hold music
    wait_url_method: str = "POST"
    max_queue_size: int | None = None


@dataclass(frozen=True, slots=True)
class Number:
    """`<Number>`, `<Client>` and `<Sip>`: a party Twilio rings (`to` as it appears in `To`)."""

    to: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ("completed",)
    status_callback_method: str = "POST"


@dataclass(frozen=True, slots=True)
class QueueNoun:
    name: str
    url: str | None = None
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Conference:
    name: str
    muted: bool = False
    beep: str = "true"
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    wait_url: str | None = None  # None: Twilio's default hold music; "" : silence
    wait_method: str = "POST"
    max_participants: int = 250
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ()
    status_callback_method: str = "POST"
    coach: str | None = None  # the CallSid this participant coaches (heard by it alone)
    record: str = "do-not-record"
    recording_status_callback: str | None = None
    recording_status_callback_method: str = "POST"
    recording_status_callback_event: tuple[str, ...] = ("completed",)
    label: str | None = None  # a REST participant's `Label` (addresses it like its CallSid)


Target = Number | QueueNoun | Conference

# Recording attributes that Twilio knows and the emulator does not model: refused (a warning,
# no recording), never silently ignored (see ivr/sim/recording.py).
UNMODELLED_RECORDING = {
    "Conference": ("trim", "recordingConfigurationId"),
    "Dial": ("record", "trim", "recordingConfigurationId", "recordingStatusCallback",
             "recordingTrack"),
}
RECORD_VALUES = ("do-not-record", "record-from-start")


@dataclass(frozen=True, slots=True)
class Dial:
    targets: tuple[Target, ...]
    action: str | None = None
    method: str = "POST"
    timeout: float = 30.0
    time_limit: float = 14400.0
    caller_id: str | None = None
    hangup_on_star: bool = False
    answer_on_bridge: bool = False


Verb = Say | Play | Pause | Gather | Redirect | Hangup | Leave | Reject | Record | Enqueue | Dial


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed TwiML document and where it came from (its URL resolves relative URLs)."""

    verbs: tuple[Verb, ...]
    url: str = ""
    warnings: tuple[tuple[int, str], ...] = field(default=())


def resolve(doc: Document, url: str) -> str:
    """A verb's URL, relative to the URL of the document it came in."""
    return urljoin(doc.url, url) if doc.url else url


def text_document(text: str, url: str = "") -> Document:
    """What Twilio does with a `text/plain` response: read it aloud, then hang up."""
    return Document((Say(text.strip()), Hangup()), url)


def application_error_document() -> Document:
    """What the caller hears when the app failed and there is no (working) fallback URL."""
    return Document((Say(APPLICATION_ERROR_TEXT), Hangup()))


# --- the machine list of attributes ------------------------------------------------------------


def _schema() -> dict[str, dict[str, frozenset[str]]]:
    """{parent tag: {child tag: attribute names}} from twilio's TwiML builder signatures."""
    classes = {
        name.lower(): obj for name, obj in vars(vr).items()
        if isinstance(obj, type) and issubclass(obj, TwiML)
    }
    schema: dict[str, dict[str, frozenset[str]]] = {}
    for parent, tag in ((vr.VoiceResponse, "Response"), (vr.Gather, "Gather"), (vr.Dial, "Dial")):
        children: dict[str, frozenset[str]] = {}
        for meth_name, meth in inspect.getmembers(parent, inspect.isfunction):
            cls = classes.get(meth_name.replace("_", ""))
            if cls is None or meth_name.startswith("_"):
                continue
            text_params = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
            params = set(inspect.signature(meth).parameters) - {"self", "kwargs"} - text_params
            children[cls.__name__] = frozenset(lower_camel(TwiML.MAP.get(p, p)) for p in params)
        schema[tag] = children
    return schema


SCHEMA = _schema()
PROMPT_TAGS = frozenset({"Say", "Play", "Pause"})


# --- parsing -------------------------------------------------------------------------------------


class _Reader:
    """Reads one element's attributes with Twilio's defaults, noting 12200 warnings."""

    def __init__(self, el: ET.Element, known: frozenset[str], warnings: list[tuple[int, str]]):
        self.el = el
        self.warnings = warnings
        for name in el.attrib:
            if name not in known:
                warnings.append((12200, f"<{el.tag}> has no attribute {name!r}"))

    def text(self) -> str:
        return " ".join("".join(self.el.itertext()).split())

    def str(self, name: str, default: Any = None) -> Any:
        value = self.el.get(name)
        return default if value is None else value.strip()

    def method(self, name: str = "method") -> str:
        value = self.str(name, "POST").upper()
        if value not in ("GET", "POST"):
            self.warnings.append((12200, f"<{self.el.tag} {name}={value!r}>: using POST"))
            return "POST"
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.str(name)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.warnings.append((12200, f"<{self.el.tag} {name}={value!r}> is not true/false"))
        return default

    def number(self, name: str, default: Any, kind: type = float) -> Any:
        value = self.str(name)
        if value is None or value == "":
            return default
        try:
            return kind(value)
        except ValueError:
            self.warnings.append((12200, f"<{self.el.tag} {name}={value!r}> is not a number"))
            return default

    def events(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.str(name)
        return default if value is None else tuple(value.replace(",", " ").split())


def parse_twiml(body: bytes | str, url: str = "") -> Document:
    """Parse a TwiML response body. Raises `TwimlError` (12100) when it cannot be executed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(f"the document is not well-formed XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    warnings: list[tuple[int, str]] = []
    verbs = tuple(v for el in root if (v := _verb(el, "Response", warnings)) is not None)
    return Document(verbs, url, tuple(warnings))


def _verb(el: ET.Element, parent: str, warnings: list[tuple[int, str]]) -> Any:
    known = SCHEMA[parent].get(el.tag)
    if known is None:
        warnings.append((12200, f"<{el.tag}> is not allowed in <{parent}>"))
        return None
    r = _Reader(el, known, warnings)
    tag = el.tag
    if tag == "Say":
        for child in el:
            # SSML (<say-as>, <break>, <prosody> ...) changes what the caller hears in ways that
            # depend on the voice; the emulator does not model it, so it says so.
            warnings.append((12200, f"<Say> holds SSML <{child.tag}>, which the emulator does "
                                    "not model: what the caller hears is not known"))
        return Say(r.text(), r.str("voice", "man"), r.str("language", "en-US"),
                   r.number("loop", 1, int))
    if tag == "Play":
        return Play(r.text(), r.number("loop", 1, int), r.str("digits"))
    if tag == "Pause":
        return Pause(r.number("length", 1.0))
    if tag == "Gather":
        prompts = tuple(p for child in el if (p := _verb(child, "Gather", warnings)) is not None)
        num_digits = r.number("numDigits", None, int)
        return Gather(
            prompts, frozenset(r.str("input", "dtmf").split()), r.str("action"), r.method(),
            r.number("timeout", 5.0), r.str("finishOnKey", "#"),
            num_digits if num_digits and num_digits > 0 else None,
            r.bool("actionOnEmptyResult", False), r.str("language", "en-US"),
            r.str("hints", ""), r.str("speechTimeout"),
        )
    if tag == "Redirect":
        return Redirect(r.text(), r.method())
    if tag == "Hangup":
        return Hangup()
    if tag == "Leave":
        return Leave()
    if tag == "Reject":
        return Reject(r.str("reason", "rejected"))
    if tag == "Record":
        return Record(
            r.str("action"), r.method(), r.number("timeout", 5.0),
            r.str("finishOnKey", "1234567890*#"), r.number("maxLength", 3600.0),
            r.bool("playBeep", True),
        )
    if tag == "Enqueue":
        return Enqueue(
            r.text(), r.str("action"), r.method(), r.str("waitUrl"), r.method("waitUrlMethod"),
            r.number("maxQueueSize", None, int),
        )
    if tag == "Dial":
        return _dial(el, r, warnings)
    warnings.append((12200, f"<{tag}> is valid TwiML that the emulator does not run"))
    return None


def _dial(el: ET.Element, r: _Reader, warnings: list[tuple[int, str]]) -> Dial:
    targets: list[Target] = []
    for child in el:
        known = SCHEMA["Dial"].get(child.tag)
        if known is None:
            warnings.append((12200, f"<{child.tag}> is not allowed in <Dial>"))
            continue
        c = _Reader(child, known, warnings)
        if child.tag in ("Number", "Client", "Sip"):
            to = c.text()
            if child.tag == "Client":
                identity = child.find("Identity")
                to = "client:" + (identity.text or "").strip() if identity is not None else (
                    to if to.startswith("client:") else "client:" + to)
            targets.append(Number(
                to, c.str("url"), c.method(), c.str("statusCallback"),
                c.events("statusCallbackEvent", ("completed",)), c.method("statusCallbackMethod"),
            ))
        elif child.tag == "Queue":
            targets.append(QueueNoun(c.text(), c.str("url"), c.method()))
        elif child.tag == "Conference":
            record = c.str("record", "do-not-record")
            if record not in RECORD_VALUES:
                warnings.append((12200, f"<Conference record={record!r}> is not modelled by "
                                 "the emulator: not recorded"))
                record = "do-not-record"
            _refuse_unmodelled(child, warnings)
            targets.append(Conference(
                c.text(), c.bool("muted", False), c.str("beep", "true"),
                c.bool("startConferenceOnEnter", True), c.bool("endConferenceOnExit", False),
                c.str("waitUrl"), c.method("waitMethod"),
                c.number("maxParticipants", 250, int), c.str("statusCallback"),
                c.events("statusCallbackEvent", ()), c.method("statusCallbackMethod"),
                c.str("coach"),
                record, c.str("recordingStatusCallback"),
                c.method("recordingStatusCallbackMethod"),
                c.events("recordingStatusCallbackEvent", ("completed",)),
            ))
        else:
            warnings.append((12200, f"<Dial><{child.tag}> is not run by the emulator"))
    _refuse_unmodelled(el, warnings)
    text = (el.text or "").strip()
    if text and not targets:
        targets.append(Number(text))
    return Dial(
        tuple(targets), r.str("action"), r.method(), r.number("timeout", 30.0),
        r.number("timeLimit", 14400.0), r.str("callerId"), r.bool("hangupOnStar", False),
        r.bool("answerOnBridge", False),
    )


def _refuse_unmodelled(el: ET.Element, warnings: list[tuple[int, str]]) -> None:
    for name in UNMODELLED_RECORDING.get(el.tag, ()):
        if el.get(name) is not None and not (name == "record" and el.get(name) ==
                                             "do-not-record"):
            warnings.append((12200, f"<{el.tag} {name}> is not modelled by the emulator"))


# --- where each verb may run (Twilio's nesting rules for documents fetched in a context) ---------

MAIN_VERBS = frozenset({Say, Play, Pause, Gather, Redirect, Hangup, Reject, Record, Enqueue, Dial})
WAIT_VERBS = frozenset({Say, Play, Pause, Gather, Hangup, Redirect, Leave})  # Enqueue waitUrl
DEQUEUE_VERBS = frozenset({Say, Play, Pause, Redirect})  # <Queue url> on the dequeued caller
CONFERENCE_WAIT_VERBS = frozenset({Say, Play, Pause, Redirect})  # <Conference waitUrl>
