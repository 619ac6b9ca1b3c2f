"""A lease in Redis: which one of several processes does a thing now (the floor's ticker).

The holder renews it before each turn; a holder that stops releases it, one that dies lets it
expire after `ttl` seconds, and then another process takes it. Each renewal is one script on
one key (the key carries the center's hash tag, so it runs on a Redis Cluster as well).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

# Renew when ours, take when free; 1 if held by us afterwards.
_HOLD = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """One process's claim on `key` (its token: pid and a random part, readable by a person)."""

    def __init__(self, client: Any, key: str, ttl: float) -> None:
        self.key = key
        self.ttl_ms = max(int(ttl * 1000), 1)
        self.token = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """True when this process holds the lease for the next `ttl` seconds."""
        return bool(self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        """Give it up at once (only if still ours), so another process need not wait."""
        self._release(keys=[self.key], args=[self.token])


def ticker_key(center: str) -> str:
    return f"ivr:{{{center}}}:ticker-lease"
