"""Redis key names of one center's call-takers.

Every key starts with ``a:{<center>}:``: the same hash tag as the center's queue keys
(``q:{<center>}:``), so a Lua script may touch both on Redis Cluster. Key names are built here
and only here; scripts receive them in KEYS, always with the head `Keys.head` in that order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

GROUP_ID_LENGTH = 12


def group_id(skills: Iterable[str]) -> str:
    """The fixed-length id of a skill set. Call-takers with the same skills form a group:
    routing asks the queue once per group, not once per call-taker."""
    digest = hashlib.sha1("\x1f".join(sorted(skills)).encode()).hexdigest()
    return digest[:GROUP_ID_LENGTH]


class Keys:
    """Key names for `center`.

    presence   hash  agent id -> presence JSON
    available  zset  routable call-takers, score = idle since, member = group id "|" agent id
                     (routing walks it longest idle first and reads the group off the member)
    timers     zset  agent id, score = end of wrap-up or of a reject delay
    duty       hash  group id -> call-takers on duty (staffing)
    ready      hash  group id -> members of `available` (lets routing stop early)
    resv       hash  reservation id -> reservation JSON (open offers only)
    expiry     zset  reservation id, score = deadline
    by_call    hash  call id -> reservation id
    seq        hash  counters: "resv" (reservation ids), "event" (event ids)
    groups     hash  group id -> skills JSON (only ever grows)
    groups_version  str  bumped when a group is added
    log        stream  every published event, with the call-taker's group id, until the
                     application has recorded it (ivr/floor/statelog.py); capped at `LOG_MAX`
    """

    def __init__(self, center: str) -> None:
        if not center or any(ch in center for ch in "{}") or len(center) > 64:
            raise ValueError(f"center name {center!r}: 1..64 characters without braces")
        self.center = center
        self.tag = "{" + center + "}"
        self.prefix = f"a:{self.tag}:"
        self.presence = self.prefix + "presence"
        self.available = self.prefix + "available"
        self.timers = self.prefix + "timers"
        self.duty = self.prefix + "duty"
        self.ready = self.prefix + "ready"
        self.resv = self.prefix + "resv"
        self.expiry = self.prefix + "expiry"
        self.by_call = self.prefix + "bycall"
        self.seq = self.prefix + "seq"
        self.groups = self.prefix + "groups"
        self.groups_version = self.prefix + "gver"
        self.log = self.prefix + "log"
        self.channel = f"agents:{self.tag}:events"

    def head(self) -> list[str]:
        """The first twelve KEYS of every agents script (see ``scripts/_lib.lua``)."""
        return [
            self.presence,
            self.available,
            self.timers,
            self.duty,
            self.ready,
            self.resv,
            self.expiry,
            self.by_call,
            self.seq,
            self.groups,
            self.groups_version,
            self.log,
        ]

    def fixed(self) -> tuple[str, ...]:
        """Every key of the center's call-takers (for cleanup and checks)."""
        return tuple(self.head())
