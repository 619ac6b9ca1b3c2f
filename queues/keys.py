"""Redis key names of one center's queues.

Every key starts with ``q:{<center>}:`` so that all of a center's keys hash to one Redis Cluster
slot (the part between the first braces is the hash tag): a Lua script may then touch any of them.
Key names are built here and only here; scripts receive them in KEYS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

# No braces (the hash tag), no whitespace (the scripts' records and lists are separated by it).
_CENTER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Keys:
    """Key names for `center`.

    calls       hash  call id -> record of every waiting or offered call (see scripts/_lib.lua)
    index       hash  bucket key -> descriptor JSON (class, requirements); also "version" (changes
                      whenever a bucket is added, see queues.index)
    seq         string the counter that gives each pushed call its tie-breaking sequence number
                      (a key of its own: a counter inside the small index hash is rewritten in
                      place on every push)
    staffing    hash  class -> call-takers serving it (recorded by the app)
    order(c)    zset  waiting calls of class c, whatever their requirements, scored and ordered
                      like a bucket: sizes and positions count one range per priority, not
                      per bucket
    handle(c)   list  recent handle times of class c, newest first, as ``"<now>|<seconds>"``
    bucket(c, r) zset waiting calls of class c with requirement set r, all scored 0 and ordered
                      by member: priority digit, arrival as a big-endian IEEE double, seq as 15
                      digits, ":", call id (see scripts/_lib.lua)
    """

    def __init__(self, center: str) -> None:
        if not _CENTER.match(center):
            raise ValueError(f"center name {center!r} must match {_CENTER.pattern}")
        self.center = center
        self.tag = "{" + center + "}"
        self.prefix = f"q:{self.tag}:"
        self.calls = self.prefix + "calls"
        self.index = self.prefix + "buckets"
        self.staffing = self.prefix + "staffing"
        self.seq = self.prefix + "seq"

    def order(self, queue_class: str) -> str:
        return f"{self.prefix}ord:{queue_class}"

    def handle(self, queue_class: str) -> str:
        return f"{self.prefix}ht:{queue_class}"

    def bucket(self, queue_class: str, skills: Iterable[str]) -> str:
        """The bucket of calls with this class and requirement set.

        The requirement set enters as a digest: skills are free text (any characters, any length)
        and the key must stay short. The class stays readable for people using redis-cli.
        """
        digest = hashlib.sha1("\x1f".join(sorted(skills)).encode()).hexdigest()[:16]
        return f"{self.prefix}b:{queue_class}:{digest}"

    def fixed(self) -> tuple[str, ...]:
        """Every key whose name depends on no class or bucket (for cleanup and checks)."""
        return (self.calls, self.index, self.staffing, self.seq)

    def per_class(self, queue_class: str) -> tuple[str, ...]:
        """Every key of one class apart from its buckets."""
        return (self.order(queue_class), self.handle(queue_class))
