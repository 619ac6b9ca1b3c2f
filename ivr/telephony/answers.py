"""The caller's answer as Twilio posts it (a Gather, a Record or a Dial callback), read into the
engine's `Input` and cleaned of anything odd: only keys, bounded speech, a recording's URL."""

from __future__ import annotations

import re
from collections.abc import Mapping

from callflows.actions import Input

_DIGITS = re.compile(r"[^0-9*#]")
MAX_DIGITS = 64
MAX_SPEECH = 500


def read_input(event: str, form: Mapping[str, str]) -> Input:
    """The caller's answer from a Gather, Record or Dial callback, cleaned of anything odd."""
    digits = _DIGITS.sub("", form.get("Digits", ""))[:MAX_DIGITS] or None
    speech = " ".join(form.get("SpeechResult", "").split())[:MAX_SPEECH] or None
    try:
        confidence = float(form["Confidence"]) if "Confidence" in form else None
    except ValueError:
        confidence = None
    if event == "record":
        url = form.get("RecordingUrl") or None
        try:
            seconds = int(form.get("RecordingDuration", "0") or 0)
        except ValueError:
            seconds = 0
        return Input(event="record", digits=digits, recording_url=url, recording_seconds=seconds)
    return Input(event="gather", digits=digits, speech=speech, confidence=confidence)
