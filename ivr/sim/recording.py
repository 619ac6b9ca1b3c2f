"""Conference recordings: `<Conference record="record-from-start">` and the Recording resource.

What is emulated: a conference whose participant's noun asks `record="record-from-start"` is
recorded from the moment it starts (or from that participant's join, if it had started) until
it ends. The Recording (``RE...``, source ``Conference``, two channels: Twilio records
conferences in dual channel, the first channel the first participant to join) is
``in-progress`` meanwhile, then ``completed`` with its duration. The recording status callback
(`recordingStatusCallback`, `recordingStatusCallbackMethod`, `recordingStatusCallbackEvent`
``in-progress completed absent``, default ``completed``) carries `AccountSid`,
`ConferenceSid`, `RecordingSid`, `RecordingUrl` (on api.twilio.com, no extension),
`RecordingStatus`, `RecordingDuration`, `RecordingChannels`, `RecordingStartTime`,
`RecordingSource`; it is signed and sent like any status callback.

REST: ``Recordings/{Sid}.json`` GET and DELETE (then 404); the media at ``Recordings/{Sid}``,
``.wav`` or ``.mp3`` is refused (it is not modelled), ``RequestedChannels`` 1 (Twilio's default
download of a conference recording, mixed down) or 2. The media is a short tone (at most
`MEDIA_SECONDS`), not the call's audio: the emulator carries no audio.

Not modelled, refused: ``record`` values other than ``do-not-record`` and
``record-from-start`` (a 12200 warning on the call, no recording), `trim`, pausing or stopping
a recording, the Conference Recordings subresource, transcriptions.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ivr.sim.conference import TwilioConference
    from ivr.sim.emulator import Emulator

RECORD_VALUES = ("do-not-record", "record-from-start")
EVENTS = ("in-progress", "completed", "absent")
MEDIA_SECONDS = 3.0
RATE = 8000


@dataclass(frozen=True)
class RecordingSpec:
    """What a `<Conference>` noun asked about recording."""

    callback: str | None = None
    method: str = "POST"
    events: tuple[str, ...] = ("completed",)


@dataclass
class Recording:
    sid: str
    conference_sid: str
    spec: RecordingSpec
    start_t: float
    end_t: float | None = None
    status: str = "in-progress"
    channels: int = 2
    source: str = "Conference"
    callbacks: list[dict[str, str]] = field(default_factory=list)  # what was sent, in order

    def duration(self, now: float) -> int:
        return int(round((self.end_t if self.end_t is not None else now) - self.start_t))


class Recordings:
    """The account's recordings, by sid (deleted ones are gone)."""

    def __init__(self, sim: Emulator) -> None:
        self.sim = sim
        self.by_sid: dict[str, Recording] = {}
        self.deleted: dict[str, Recording] = {}

    def start(self, conf: TwilioConference, spec: RecordingSpec) -> Recording:
        sim = self.sim
        rec = Recording(sim.new_sid("RE"), conf.sid, spec, sim.clock.elapsed)
        self.by_sid[rec.sid] = rec
        self._callback(rec, "in-progress")
        return rec

    def finish(self, rec: Recording) -> None:
        if rec.status != "in-progress":
            return
        rec.end_t = self.sim.clock.elapsed
        rec.status = "completed"
        self._callback(rec, "completed")

    def delete(self, sid: str) -> bool:
        rec = self.by_sid.pop(sid, None)
        if rec is None:
            return False
        rec.status = "deleted"
        self.deleted[sid] = rec
        return True

    def media_url(self, rec: Recording) -> str:
        return (f"https://api.twilio.com/2010-04-01/Accounts/{self.sim.account_sid}"
                f"/Recordings/{rec.sid}")

    def _callback(self, rec: Recording, event: str) -> None:
        spec = rec.spec
        if not spec.callback or event not in spec.events:
            return
        sim = self.sim
        params = {
            "AccountSid": sim.account_sid, "ConferenceSid": rec.conference_sid,
            "RecordingSid": rec.sid, "RecordingUrl": self.media_url(rec),
            "RecordingStatus": event, "RecordingChannels": str(rec.channels),
            "RecordingStartTime": format_datetime(sim.clock.at(rec.start_t)),
            "RecordingSource": rec.source,
            "RecordingDuration": str(rec.duration(sim.clock.elapsed)) if event == "completed"
            else "-1",
        }
        rec.callbacks.append(params)
        sim.status.emit_recording(spec.callback, spec.method, event, params)


def resource(sim: Emulator, rec: Recording) -> dict[str, Any]:
    """The Recording resource as Twilio's JSON (API 2010-04-01)."""
    uri = f"/2010-04-01/Accounts/{sim.account_sid}/Recordings/{rec.sid}"
    done = rec.status == "completed"
    return {
        "sid": rec.sid, "account_sid": sim.account_sid, "call_sid": None,
        "conference_sid": rec.conference_sid, "api_version": "2010-04-01",
        "date_created": format_datetime(sim.clock.at(rec.start_t)),
        "date_updated": format_datetime(sim.clock.at(rec.end_t if done and rec.end_t is not None
                                                     else rec.start_t)),
        "start_time": format_datetime(sim.clock.at(rec.start_t)),
        "duration": str(rec.duration(sim.clock.elapsed)) if done else "-1",
        "channels": rec.channels, "source": rec.source, "status": rec.status,
        "price": None, "price_unit": "USD", "error_code": None, "track": "both",
        "encryption_details": None, "media_url": f"https://api.twilio.com{uri}",
        "uri": f"{uri}.json",
        "subresource_uris": {"transcriptions": f"{uri}/Transcriptions.json",
                             "add_on_results": f"{uri}/AddOnResults.json"},
    }


def wav(seconds: float, channels: int) -> bytes:
    """A short 16-bit PCM WAV at 8 kHz: a 440 Hz tone on the first channel, 660 Hz on the
    second (so a player shows two distinct channels), at most `MEDIA_SECONDS` long."""
    frames = max(1, int(min(max(seconds, 0.5), MEDIA_SECONDS) * RATE))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        data = bytearray()
        for i in range(frames):
            for ch in range(channels):
                freq = 440.0 if ch == 0 else 660.0
                data += struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / RATE)))
        w.writeframes(bytes(data))
    return out.getvalue()
