"""`Links`: the live record of one accepted offer, from accept until the call is over.

A link joins a caller (or, for a callback, the resident dialed back) and a call-taker in the
conference named for the call. It is keyed by the reservation id, not the call id: one call can
be accepted several times (the call-taker's phone failed, the call went back in line and was
accepted again), and a status callback of an old leg, which may arrive minutes late, must find
the link of *its* attempt, already closed, and change nothing.

Both parties' webhooks arrive from any web process in any order, so the two facts that must
happen exactly once are decided inside Redis, one small script each:

* `join`: a party reached the conference; whoever arrives second (and only once, however many
  times Twilio retries) learns that the call is ``bridged``;
* `close`: the link ends, once: ``ended`` when it had been bridged, else the reason the caller
  gives (``agent-failed``, ``caller-gone``, ``resident-failed``...). Every later report finds it
  closed and only the first reporter acts (frees the call-taker, requeues the caller, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from queues import Entry

LINK_TTL = 24 * 3600

_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local closed = redis.call('HGET', KEYS[1], 'closed')
if closed then return {'closed', closed} end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3])
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1
    and redis.call('HSETNX', KEYS[1], 'bridged', ARGV[3]) == 1 then
  return {'bridged'}
end
return {'joined'}
"""

_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""

_CLOSE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local closed = redis.call('HGET', KEYS[1], 'closed')
if closed then return {'already', closed} end
local how = ARGV[1]
if redis.call('HEXISTS', KEYS[1], 'bridged') == 1 then how = 'ended' end
redis.call('HSET', KEYS[1], 'closed', how, 'closed_at', ARGV[2], 'closed_by', ARGV[3])
return {'ok', how}
"""


def entry_to_json(entry: Entry) -> str:
    return json.dumps({
        "id": entry.call_id, "class": entry.queue_class, "p": entry.priority,
        "r": sorted(entry.skills), "at": entry.arrival, "d": dict(entry.data),
        "cb": entry.callback, "n": entry.attempts, "seq": entry.seq,
    }, separators=(",", ":"))


def entry_from_json(raw: str) -> Entry:
    d = json.loads(raw)
    return Entry(call_id=d["id"], queue_class=d["class"], priority=int(d["p"]),
                 skills=frozenset(d["r"]), arrival=float(d["at"]), data=d["d"],
                 callback=bool(d["cb"]), attempts=int(d["n"]), seq=int(d["seq"]))


@dataclass(frozen=True)
class Link:
    """One accepted offer as Redis knows it (see the module docstring).

    `callback`: the resident is dialed back (no caller waits on the line). `attempt`: which
    dial of a callback this is (1-based). `caller_in`/`agent_in`: when each side reached the
    conference (the caller's side is the resident for a callback). `closed`: None while live,
    then ``ended`` or the reason it ended before the bridge.
    """

    reservation_id: str
    call_id: str
    agent_id: str
    entry: Entry
    callback: bool
    accepted_at: float
    attempt: int = 1
    agent_leg: str | None = None
    resident_leg: str | None = None
    caller_in: float | None = None
    agent_in: float | None = None
    bridged: float | None = None
    closed: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    conference_sid: str | None = None
    held: bool = False
    transfer: str | None = None  # set by a warm transfer in progress: the caller must stay

    @property
    def caller_leg(self) -> str | None:
        """The CallSid of the member of the public in the conference."""
        return self.resident_leg if self.callback else self.call_id


class Links:
    """The links of one center (keys share the center's hash tag)."""

    def __init__(self, client: redis.Redis, center: str) -> None:
        self.redis = client
        self.prefix = f"ivr:{{{center}}}:link:"
        self._open = client.register_script(_OPEN)
        self._join = client.register_script(_JOIN)
        self._close = client.register_script(_CLOSE)

    def key(self, reservation_id: str) -> str:
        return self.prefix + reservation_id

    def call_key(self, call_id: str) -> str:
        return self.prefix + "call:" + call_id

    def open(self, reservation_id: str, agent_id: str, entry: Entry, now: float,
             attempt: int = 1) -> Link | None:
        """Record an offer about to be accepted and make it the call's current link. None
        when this offer already has a link (a second accept of it is under way: a double
        click, two consoles), which is left as it is."""
        fields = {"call": entry.call_id, "agent": agent_id, "entry": entry_to_json(entry),
                  "callback": "1" if entry.callback or entry.data.get("callback") == "1"
                  else "0", "accepted_at": repr(now), "attempt": str(attempt)}
        flat = [x for pair in fields.items() for x in pair]
        made = self._open(keys=[self.key(reservation_id), self.call_key(entry.call_id)],
                          args=[reservation_id, LINK_TTL, *flat])
        return self.get(reservation_id) if made else None

    def discard(self, reservation_id: str, call_id: str) -> None:
        """Forget a link whose accept did not happen (the offer was closed meanwhile)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.key(reservation_id))
        pipe.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
                  1, self.call_key(call_id), reservation_id)
        pipe.execute()

    def get(self, reservation_id: str) -> Link | None:
        if not reservation_id:
            return None
        raw: dict[str, Any] = self.redis.hgetall(self.key(reservation_id))  # type: ignore[assignment]
        return _link(reservation_id, raw) if raw else None

    def for_call(self, call_id: str) -> Link | None:
        """The call's most recent link (live or closed), if any."""
        rid = self.redis.get(self.call_key(call_id))
        return self.get(str(rid)) if rid else None

    def set(self, reservation_id: str, **fields: str) -> None:
        """Record facts about a live link (leg sids, conference sid, hold, transfer)."""
        if fields:
            self.redis.hset(self.key(reservation_id), mapping=fields)

    def claim(self, reservation_id: str, name: str) -> bool:
        """True for the first claim of `name` on this link only (a step that must run once
        however often Twilio repeats the webhook that asks for it)."""
        return bool(self.redis.hsetnx(self.key(reservation_id), name, "1"))

    def clear(self, reservation_id: str, *names: str) -> None:
        if names:
            self.redis.hdel(self.key(reservation_id), *names)

    def join(self, reservation_id: str, side: str, now: float) -> str:
        """`side` (``caller`` or ``agent``) reached the conference. Returns ``bridged`` exactly
        once (to the second party in), else ``joined``, ``closed`` or ``missing``."""
        mine, other = ("caller_in", "agent_in") if side == "caller" else ("agent_in", "caller_in")
        raw = self._join(keys=[self.key(reservation_id)], args=[mine, other, repr(now)])
        return str(raw[0])

    def close(self, reservation_id: str, how: str, now: float, by: str) -> str | None:
        """End the link once. Returns how it ended (``ended`` if it was bridged, else `how`)
        to the first caller only; None to everyone after (or when there is no such link)."""
        raw = self._close(keys=[self.key(reservation_id)], args=[how, repr(now), by])
        return str(raw[1]) if str(raw[0]) == "ok" else None


def _link(rid: str, raw: dict[str, Any]) -> Link:
    def t(name: str) -> float | None:
        value = raw.get(name)
        return float(value) if value not in (None, "") else None

    return Link(
        reservation_id=rid, call_id=raw["call"], agent_id=raw["agent"],
        entry=entry_from_json(raw["entry"]), callback=raw.get("callback") == "1",
        accepted_at=float(raw["accepted_at"]), attempt=int(raw.get("attempt") or 1),
        agent_leg=raw.get("agent_leg") or None, resident_leg=raw.get("resident_leg") or None,
        caller_in=t("caller_in"), agent_in=t("agent_in"), bridged=t("bridged"),
        closed=raw.get("closed") or None, closed_at=t("closed_at"),
        closed_by=raw.get("closed_by") or None, conference_sid=raw.get("conference_sid") or None,
        held=raw.get("held") == "1", transfer=raw.get("transfer") or None,
    )
