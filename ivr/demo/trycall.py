"""`ivr call LINE`: dial a line of this center from the terminal, through the emulator.

The real app runs in-process on the configured storage (the embedded default needs nothing);
the emulator plays Twilio and this terminal plays the caller: each prompt is printed, and what
you type answers it (keys, ``say <words>``, Enter for silence, ``h`` to hang up). A city can
try its flows this way without a Twilio account. The clock starts at the real time, so opening
hours apply as they would now.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from ivr.app import create_app
from ivr.bootstrap import bootstrap, prepare_database
from ivr.demo.carrierlink import CarrierError, converse, running_carrier
from ivr.platform.config import Settings
from ivr.sim import Caller, Emulator, NumberConfig, SimClock, WSGITransport
from ivr.sim.callers import Item, Window, hangup, press, record, say, silence

HELP = "Type keys (e.g. 1 or 1234#), 'say <words>', Enter for silence, 'h' to hang up."


def number_of(settings: Settings, line: str) -> str:
    spec = settings.lines.get(line)
    if spec is None:
        raise ValueError(f"no line {line!r}; the lines are {', '.join(sorted(settings.lines))}")
    for number in spec.numbers:
        if number.startswith("+"):
            return number
    return spec.numbers[0] if spec.numbers else line


def parse_answer(text: str, window: Window) -> Item:
    text = text.strip()
    if text.lower() in ("h", "hangup", "q", "quit"):
        return hangup()
    if text.lower().startswith("say "):
        return say(text[4:])
    if window.kind == "record":
        return record(5) if text != "" else silence()
    if text == "":
        return silence()
    return press(text)


def run_call(
    settings: Settings, line: str, caller: str, read: Callable[[str], str],
    write: Callable[[str], None], max_minutes: float = 10.0, start: datetime | None = None,
) -> str:
    """Place one call and converse through `read`/`write`; returns how the call ended.

    With `ivr serve --emulate` running on the same data directory (and no virtual `start`),
    the call goes to its emulated carrier, so the running center's call-takers can take it."""
    if start is None:
        carrier = running_carrier(settings.data_dir)
        if carrier is not None:
            try:
                return converse(carrier, line, caller, read, write, max_minutes)
            except CarrierError as exc:
                raise ValueError(str(exc)) from exc
    token = settings.auth_token or secrets.token_hex(16)  # a local trial needs no account
    settings = dataclasses.replace(settings, auth_token=token)
    prepare_database(settings.database_url)
    clock = SimClock(start or datetime.now(UTC))
    services = bootstrap(settings, clock=clock.now)
    app = create_app(services=services)
    base = settings.public_url
    numbers = [NumberConfig(number_of(settings, name), f"{base}/voice/incoming",
                            fallback_url=f"{base}/voice/fallback",
                            status_callback=f"{base}/voice/status")
               for name in settings.lines]
    # A seed of its own per call: with the emulator's default every run would dial with the
    # same CallSid, and a second call on the same storage would be taken for the first.
    sim = Emulator(settings.account_sid, settings.auth_token, numbers, WSGITransport(app),
                   clock=clock, seed=secrets.randbits(64))
    shown = 0

    def show(heard: tuple[str, ...] | list[str]) -> None:
        for text in heard:
            write(f"  \N{SPEAKER WITH THREE SOUND WAVES} {text}")

    def responder(window: Window) -> Item:
        nonlocal shown
        show(window.heard)
        shown = len(call.heard())
        prompt = "record (Enter to skip)> " if window.kind == "record" else "keys> "
        return parse_answer(read(prompt), window)

    write(f"Calling line {line} ({number_of(settings, line)}). {HELP}")
    call = sim.place_call(Caller(caller, number_of(settings, line), responder=responder,
                                 hangup_after=max_minutes * 60))
    sim.run_until_idle(max_seconds=max_minutes * 60 + 60)
    show(call.heard()[shown:])
    services.engine.dispose()
    ending = "application error (a bug: please report it)" if call.application_error else \
        f"call {call.status}"
    write(f"-- {ending} after {call.duration or 0:.0f} s of call time")
    return call.status


def environment_caller() -> str:
    return os.environ.get("IVR_CALL_FROM", "+14105550100")
