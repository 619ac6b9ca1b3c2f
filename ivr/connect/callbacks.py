"""Calling back residents who asked for it while waiting (they kept their place in line).

When a callback's turn comes it is offered like a call. Accepting it rings the call-taker into
the call's conference first; once they are on the line the resident is dialed (`dial`), so a
resident who picks up always finds a person. When nobody answers, the call-taker is released at
once (they do not sit through the retries) and the callback waits `callback_retry_seconds`, then
goes back in line at its original place for the next free call-taker (`due`, run by the ticker
every second), at most `callback_retries` more times. Every attempt and the outcome are events
on the original call's record: ``callback-attempt``, ``callback-no-answer``,
``callback-retry``, ``callback-result`` (``answered`` or ``unreachable``).
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from ivr.calls import calllog
from ivr.calls.links import Link, entry_from_json, entry_to_json
from ivr.connect import offers
from ivr.services import Services
from queues import Entry

log = logging.getLogger("ivr.callbacks")

NO_NUMBER = "no number to call"


def _keys(svc: Services) -> tuple[str, str]:
    prefix = f"ivr:{{{svc.settings.center}}}:callbacks:"
    return prefix + "due", prefix + "entries"


def resident_number(svc: Services, call_id: str) -> str | None:
    """The number the resident called from: the live call's, else the SQL record's."""
    live = svc.live.get(call_id)
    number = str(live.state.vars.get("caller", "")) if live else ""
    if not number:
        with svc.engine.connect() as conn:
            number = conn.execute(select(calllog.calls.c.caller)
                                  .where(calllog.calls.c.sid == call_id)).scalar() or ""
    return number if number.startswith("+") else None


def dial(svc: Services, link: Link, now: float) -> str | None:
    """Ring the resident of a callback whose call-taker is on the line. Returns the leg's
    sid, or None when there is no number to dial."""
    number = resident_number(svc, link.call_id)
    if number is None:
        return None
    sid = svc.telephony.dial_resident(link.reservation_id, number, link.entry.data.get("line"))
    svc.links.set(link.reservation_id, resident_leg=sid)
    offers.record(svc, link.call_id, now, "callback-attempt", f"attempt {link.attempt}",
                  {"agent": link.agent_id, "attempt": link.attempt, "leg": sid,
                   "reservation": link.reservation_id})
    return sid


def answered(svc: Services, link: Link, now: float) -> None:
    offers.record(svc, link.call_id, now, "callback-result", "answered",
                  {"agent": link.agent_id, "attempt": link.attempt})


def missed(svc: Services, link: Link, status: str, now: float) -> None:
    """The resident did not answer this attempt: retry later, or give up."""
    retries = svc.telephony.config.callback_retries
    offers.record(svc, link.call_id, now, "callback-no-answer", status,
                  {"agent": link.agent_id, "attempt": link.attempt, "leg": link.resident_leg})
    if link.attempt > retries or status == NO_NUMBER:
        offers.record(svc, link.call_id, now, "callback-result", "unreachable",
                      {"attempts": link.attempt, "why": status})
        return
    due_at = now + svc.telephony.config.callback_retry_seconds
    schedule(svc, link.entry, link.attempt + 1, due_at)
    offers.record(svc, link.call_id, now, "callback-retry", f"attempt {link.attempt + 1}",
                  {"attempt": link.attempt + 1, "due": due_at})


def schedule(svc: Services, entry: Entry, attempt: int, due_at: float) -> None:
    due_key, entries_key = _keys(svc)
    pipe = svc.redis.pipeline(transaction=True)
    pipe.hset(entries_key, entry.call_id, json.dumps(
        {"entry": entry_to_json(entry), "attempt": attempt}))
    pipe.zadd(due_key, {entry.call_id: due_at})
    pipe.execute()


def requeue(svc: Services, entry: Entry, attempt: int, now: float) -> bool:
    """Put a callback back in line at its original place (arrival kept), flagged as a
    callback, carrying its attempt number. False when its class is full."""
    data = {**entry.data, "attempt": str(attempt), "callback": "1"}
    pushed = svc.queues.push(entry.call_id, entry.queue_class, entry.priority, entry.skills,
                             entry.arrival, data, with_position=False)
    if pushed.status == "full":
        log.warning("callback %s: class %s is full; retried later", entry.call_id,
                    entry.queue_class)
        return False
    # Not atomic with the push: meanwhile a router could offer it unflagged. The "callback"
    # in its data covers that instant (`ivr.connect.actions` reads either).
    svc.queues.mark_callback(entry.call_id)
    return True


def due(svc: Services, now: float) -> int:
    """Put back in line the callbacks whose retry time has come; returns how many. Safe from
    several processes at once: a ZREM decides which one takes each."""
    due_key, entries_key = _keys(svc)
    done = 0
    for call_id in svc.redis.zrangebyscore(due_key, "-inf", now, start=0, num=100):
        if not svc.redis.zrem(due_key, call_id):
            continue  # another process took it
        raw = svc.redis.hget(entries_key, call_id)
        svc.redis.hdel(entries_key, call_id)
        if not raw:
            continue
        spec = json.loads(str(raw))
        entry = entry_from_json(spec["entry"])
        if requeue(svc, entry, int(spec["attempt"]), now):
            done += 1
        else:
            schedule(svc, entry, int(spec["attempt"]),
                     now + svc.telephony.config.callback_retry_seconds)
    return done


def waiting_retries(svc: Services) -> dict[str, float]:
    """Callbacks waiting for their next attempt: call id -> when (for consoles and tests)."""
    due_key, _ = _keys(svc)
    return {str(k): float(v) for k, v in svc.redis.zrange(due_key, 0, -1, withscores=True)}
