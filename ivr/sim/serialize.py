"""Twilio's JSON shapes (API 2010-04-01) for the emulator's calls, queues and conferences.

Field names and formats follow the resources as twilio-python reads them (dates in RFC 2822,
durations as strings of seconds, `uri` relative to https://api.twilio.com).
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.conference import Participant, TwilioConference
    from ivr.sim.emulator import Emulator
    from ivr.sim.queue import Member, TwilioQueue
    from ivr.sim.twiml import Conference


def date(sim: Emulator, t: float | None) -> str | None:
    return None if t is None else format_datetime(sim.clock.at(t))


def formatted(number: str) -> str:
    """(415) 555-0311 for a North American E.164 number; anything else as it is."""
    if number.startswith("+1") and len(number) == 12 and number[2:].isdigit():
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _root(sim: Emulator) -> str:
    return f"/2010-04-01/Accounts/{sim.account_sid}"


def call(sim: Emulator, c: Call) -> dict[str, Any]:
    uri = f"{_root(sim)}/Calls/{c.sid}"
    number = sim.numbers.get(c.to) if c.direction == "inbound" else sim.numbers.get(c.from_)
    return {
        "sid": c.sid, "account_sid": sim.account_sid, "parent_call_sid": c.parent_sid,
        "date_created": date(sim, c.created_t), "date_updated": date(sim, c.updated_t),
        "to": c.to, "to_formatted": formatted(c.to), "from": c.from_,
        "from_formatted": formatted(c.from_), "phone_number_sid": number.sid if number else None,
        "status": c.status, "start_time": date(sim, c.answered_t or c.created_t),
        "end_time": date(sim, c.ended_t), "duration": str(c.duration) if c.ended else None,
        "price": None, "price_unit": "USD", "direction": c.direction, "answered_by": None,
        "api_version": "2010-04-01", "forwarded_from": None, "group_sid": None,
        "caller_name": c.caller_name, "queue_time": str(int(c.queue_time * 1000)),
        "trunk_sid": None, "uri": f"{uri}.json",
        "subresource_uris": {
            "notifications": f"{uri}/Notifications.json", "recordings": f"{uri}/Recordings.json",
            "payments": f"{uri}/Payments.json", "events": f"{uri}/Events.json",
            "siprec": f"{uri}/Siprec.json", "streams": f"{uri}/Streams.json",
            "user_defined_message_subscriptions": f"{uri}/UserDefinedMessageSubscriptions.json",
            "user_defined_messages": f"{uri}/UserDefinedMessages.json",
        },
    }


def queue(sim: Emulator, q: TwilioQueue) -> dict[str, Any]:
    uri = f"{_root(sim)}/Queues/{q.sid}"
    return {
        "sid": q.sid, "account_sid": sim.account_sid, "friendly_name": q.friendly_name,
        "current_size": len(q), "max_size": q.max_size,
        "average_wait_time": q.average_wait(sim.clock.elapsed),
        "date_created": date(sim, q.created_t), "date_updated": date(sim, q.updated_t),
        "uri": f"{uri}.json", "subresource_uris": {"members": f"{uri}/Members.json"},
    }


def member(sim: Emulator, m: Member) -> dict[str, Any]:
    return {
        "call_sid": m.call.sid, "queue_sid": m.queue.sid, "position": m.position(),
        "wait_time": m.wait_time(sim.clock.elapsed), "date_enqueued": date(sim, m.enqueued_t),
        "uri": f"{_root(sim)}/Queues/{m.queue.sid}/Members/{m.call.sid}.json",
    }


def conference(sim: Emulator, c: TwilioConference) -> dict[str, Any]:
    uri = f"{_root(sim)}/Conferences/{c.sid}"
    return {
        "sid": c.sid, "account_sid": sim.account_sid, "friendly_name": c.friendly_name,
        "status": c.status, "region": "us1", "api_version": "2010-04-01",
        "date_created": date(sim, c.created_t), "date_updated": date(sim, c.updated_t),
        "reason_conference_ended": c.reason_ended,
        "call_sid_ending_conference": c.call_sid_ending, "uri": f"{uri}.json",
        "subresource_uris": {"participants": f"{uri}/Participants.json",
                             "recordings": f"{uri}/Recordings.json"},
    }


def participant(sim: Emulator, p: Participant) -> dict[str, Any]:
    conf = p.conference
    return {
        "account_sid": sim.account_sid, "call_sid": p.call.sid, "conference_sid": conf.sid,
        "label": p.label, "call_sid_to_coach": p.call_sid_to_coach, "coaching": p.coaching,
        "date_created": date(sim, p.joined_t), "date_updated": date(sim, p.updated_t),
        "end_conference_on_exit": p.end_conference_on_exit, "muted": p.muted, "hold": p.hold,
        "start_conference_on_enter": p.start_conference_on_enter, "status": p.status,
        "queue_time": None,
        "uri": f"{_root(sim)}/Conferences/{conf.sid}/Participants/{p.call.sid}.json",
    }


def pending_participant(sim: Emulator, conf: TwilioConference, c: Call,
                        noun: Conference) -> dict[str, Any]:
    """A participant being rung (`POST Participants.json` answers before anyone picks up)."""
    return {
        "account_sid": sim.account_sid, "call_sid": c.sid, "conference_sid": conf.sid,
        "label": None, "call_sid_to_coach": noun.coach, "coaching": noun.coach is not None,
        "date_created": date(sim, c.created_t), "date_updated": date(sim, c.created_t),
        "end_conference_on_exit": noun.end_conference_on_exit, "muted": noun.muted,
        "hold": False, "start_conference_on_enter": noun.start_conference_on_enter,
        "status": "queued", "queue_time": None,
        "uri": f"{_root(sim)}/Conferences/{conf.sid}/Participants/{c.sid}.json",
    }
