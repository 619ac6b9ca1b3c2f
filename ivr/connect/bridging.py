"""The webhooks of a call between a member of the public and a call-taker, from accept on.

Each side reaches the conference named for the call through its own webhook: the dequeued
caller (`caller_twiml`), the call-taker's leg once answered (`agent_twiml`), a resident called
back once answered (`resident_twiml`). Each asks `Links.join`; the second one in makes the call
``bridged``. Leaving the conference (the Dial actions) and the legs' status callbacks report the
end of the link; `ivr.connect.outcomes` decides, once, what that end means.

Callbacks can be late, repeated or out of order; every handler here is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from twilio.twiml.voice_response import Dial, VoiceResponse

from agents import TelephonyError
from ivr.calls.links import Link
from ivr.connect import callbacks, monitor, offers
from ivr.connect.outcomes import FAILED, close, language_of, on_bridged, requeue_twiml, say
from ivr.quality.config import RecordingConfig
from ivr.services import Services
from ivr.telephony.adapter import conference_name, url
from ivr.telephony.safe import safe_twiml
from ivr.telephony.speech import language_key

log = logging.getLogger("ivr.bridging")


def _conference(svc: Services, link: Link, response: VoiceResponse, action: str, *,
                start: bool, wait_url: str | None = None) -> None:
    dial = Dial(action=url(svc.settings, action, resv=link.reservation_id), method="POST")
    dial.conference(
        conference_name(link.call_id), start_conference_on_enter=start,
        end_conference_on_exit=False, beep=False,
        wait_url=wait_url, wait_method="POST",
        status_callback=url(svc.settings, "conference", resv=link.reservation_id),
        status_callback_event="start end join leave", status_callback_method="POST",
        **(_recording(svc, link) if start else {}),  # asked once, by who starts it
    )
    response.append(dial)


def _recording(svc: Services, link: Link) -> dict[str, str]:
    """The conference noun's recording attributes when the call's line is recorded: from the
    conference's start, the status callback naming the call (signed, so it cannot be forged)."""
    if not RecordingConfig.from_raw(svc.settings.raw).records(link.entry.data.get("line")):
        return {}
    return {"record": "record-from-start",
            "recording_status_callback": url(svc.settings, "recording", call=link.call_id),
            "recording_status_callback_event": "in-progress completed absent",
            "recording_status_callback_method": "POST"}


def caller_twiml(svc: Services, rid: str, now: float) -> str:
    """The dequeued caller's TwiML: wait in the conference for the call-taker."""
    link = svc.links.get(rid)
    if link is None:
        return _back_in_line_unknown(svc)
    status = svc.links.join(rid, "caller", now)
    response = VoiceResponse()
    if status == "closed":
        link = svc.links.get(rid) or link
        if link.closed != "ended":
            return requeue_twiml(svc, link, now)
        say(response, language_of(link), "goodbye")  # a repeated request after the end
        response.hangup()
        return str(response)
    if status == "bridged":
        on_bridged(svc, link, now)
    hold = url(svc.settings, "hold", lang=language_key(language_of(link)))
    _conference(svc, link, response, "caller-done", start=False, wait_url=hold)
    return str(response)


def agent_twiml(svc: Services, rid: str, leg: str, now: float) -> str:
    """The call-taker's leg, answered: into the conference (and, for a callback, ring the
    resident now that someone is there to talk to them)."""
    link = svc.links.get(rid)
    response = VoiceResponse()
    if link is None or link.closed:
        say(response, "en", "gone" if link and link.closed == "caller-gone" else "ended")
        response.hangup()
        return str(response)
    if not link.agent_leg and leg:
        svc.links.set(rid, agent_leg=leg)
    status = svc.links.join(rid, "agent", now)
    if status == "closed":
        say(response, "en", "gone")
        response.hangup()
        return str(response)
    if status == "bridged":
        on_bridged(svc, link, now)
    if link.callback:
        failed = _ring_resident(svc, link, now)
        if failed:
            close(svc, rid, "resident-failed", "network", now, failed)
            say(response, "en", "ended")
            response.hangup()
            return str(response)
        say(response, "en", "resident")
        _conference(svc, link, response, "agent-done", start=False,
                    wait_url=url(svc.settings, "hold", lang="en", who="agent"))
    else:
        _conference(svc, link, response, "agent-done", start=True)
    return str(response)


def _ring_resident(svc: Services, link: Link, now: float) -> str | None:
    """Dial a callback's resident, once per link however often Twilio repeats the join
    request. Returns why it could not be done, or None."""
    if not svc.links.claim(link.reservation_id, "resident_dialed"):
        return None
    try:
        return None if callbacks.dial(svc, link, now) else callbacks.NO_NUMBER
    except TelephonyError as exc:
        log.warning("callback %s: could not dial the resident: %s", link.call_id, exc)
        return "could not be dialed"


def resident_twiml(svc: Services, rid: str, now: float) -> str:
    """A resident called back has answered: greet them, then into the conference."""
    link = svc.links.get(rid)
    response = VoiceResponse()
    language = language_of(link)
    status = "closed" if link is None or link.closed else svc.links.join(rid, "caller", now)
    if link is None or status == "closed":
        say(response, language, "callback_sorry")
        response.hangup()
        return str(response)
    if status == "bridged":
        on_bridged(svc, link, now)
    say(response, language, "callback")
    _conference(svc, link, response, "caller-done", start=True)
    return str(response)


def hold_twiml(svc: Services, language: str, who: str) -> str:
    """The conference's wait music (and hold music): Say, Play, Pause and Redirect only. A
    caller the call-taker put on hold (`who="held"`) is told so, not that they are being
    connected."""
    response = VoiceResponse()
    if who == "agent":
        say(response, "en", "resident")
    elif who == "held":
        say(response, language, "held")
    else:
        say(response, language, "connecting")
    response.play(svc.settings.raw.get("hold_music"))
    return str(response)


def caller_left_twiml(svc: Services, rid: str, form: Mapping[str, str], now: float) -> str:
    """The caller's (or resident's) Dial action: they left the conference. Hung up: the link
    closes. Still on the line (the conference was ended): goodbye, or back in line if the
    call-taker never came."""
    link = svc.links.get(rid)
    response = VoiceResponse()
    hung_up = form.get("CallStatus") in ("completed", *FAILED)
    if link is None:
        return str(response)
    if hung_up:
        close(svc, rid, "caller-gone", "caller", now)
        return str(response)
    if not link.bridged and link.closed != "ended":
        svc.links.clear(rid, "caller_in")  # out of the conference: this answer requeues them
        close(svc, rid, "agent-failed", "agent", now, "the conference ended before the bridge")
        return requeue_twiml(svc, svc.links.get(rid) or link, now)
    close(svc, rid, "ended", "conference", now)  # normally closed already, by whoever ended it
    say(response, language_of(link), "goodbye")
    response.hangup()
    return str(response)


def agent_left_twiml(svc: Services, rid: str, form: Mapping[str, str], now: float) -> str:
    """The call-taker's Dial action: they left the conference (hung up, or it was ended)."""
    response = VoiceResponse()
    link = svc.links.get(rid)
    if link is not None:
        if link.bridged:
            close(svc, rid, "ended", "agent", now)
        else:
            close(svc, rid, "agent-failed", "agent", now, "left before the caller was connected")
    if form.get("CallStatus") not in ("completed", *FAILED):
        say(response, "en", "ended")
    response.hangup()
    return str(response)


# -- status callbacks -------------------------------------------------------------------------


def leg_status(svc: Services, rid: str, leg: str, form: Mapping[str, str], now: float) -> None:
    """A status callback of a leg the center placed (``agent``, ``resident``, or a
    ``supervisor`` on the call: `ivr.connect.monitor`)."""
    status, sid = form.get("CallStatus", ""), form.get("CallSid", "")
    if leg == "supervisor":
        link = svc.links.get(rid)
        if link is not None:
            monitor.leg_status(svc, link.call_id, form, now)
        return
    token = f"leg:{sid}:{form.get('SequenceNumber', '')}:{status}"
    if not svc.live.first_time(token):
        return
    try:
        _leg_status(svc, rid, leg, status, sid, now)
    except Exception:
        svc.live.forget(token)  # so the journal can apply it again after an outage
        raise


def _leg_status(svc: Services, rid: str, leg: str, status: str, sid: str, now: float) -> None:
    link = svc.links.get(rid)
    if link is None or link.closed:
        return
    if leg == "agent" and sid and not link.agent_leg:
        svc.links.set(rid, agent_leg=sid)
    if status not in (*FAILED, "completed"):
        return
    failed = status in FAILED or not link.bridged
    detail = status if status in FAILED else "hung up before the bridge"
    if leg == "agent":
        close(svc, rid, "agent-failed" if failed else "ended", "agent", now, detail)
    else:
        close(svc, rid, "resident-failed" if failed else "ended", "caller", now, detail)


def conference_status(svc: Services, rid: str, form: Mapping[str, str], now: float) -> None:
    """Conference events: keep the conference's sid (hold needs it); record its end."""
    event, sid = form.get("StatusCallbackEvent", ""), form.get("ConferenceSid", "")
    link = svc.links.get(rid)
    if link is None:
        return
    if sid and not link.conference_sid and event != "conference-end":
        svc.links.set(rid, conference_sid=sid)
    if event in ("participant-join", "participant-leave"):
        monitor.participant_event(svc, link.call_id, event, form.get("CallSid", ""), now)
    if event in ("participant-join", "participant-leave") and link.transfer:
        svc.hooks.participant_event(svc, link, event, form.get("CallSid", ""), now)
    if event == "conference-end" and svc.live.first_time(f"conf-end:{sid}"):
        offers.record(svc, link.call_id, now, "conference-end",
                      form.get("ReasonConferenceEnded", ""), {"conference": sid})


def caller_ended(svc: Services, call_id: str, now: float) -> None:
    """The caller's own call is over (status callback, Enqueue action): close their link."""
    link = svc.links.for_call(call_id)
    if link is not None and not link.callback and not link.closed:
        close(svc, link.reservation_id, "caller-gone", "caller", now)


def _back_in_line_unknown(svc: Services) -> str:
    """A dequeue URL for a link Redis does not know (flushed, forged): the caller is real,
    so they get the safe answer (an apology and a human), never silence."""
    return str(safe_twiml(svc.settings))
