"""What an unreachable store looks like from inside a handler.

A handler that meets one of these did not fail because of the request: Redis or the SQL database
could not be reached (restarting, a failover, a full disk, a lock held too long). The webhooks
keep the caller on hold and retry, or keep the event in the journal, instead of recording a
failure (`ivr.voice.outage`).
"""

from __future__ import annotations

import redis.exceptions
import sqlalchemy.exc

_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
               redis.exceptions.ReadOnlyError, redis.exceptions.TryAgainError,
               redis.exceptions.ClusterDownError, redis.exceptions.MasterDownError)
_SQL_DOWN = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
             sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)

STORE_ERRORS = _REDIS_DOWN + _SQL_DOWN  # what a handler may register for


def store_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says a store could not be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _REDIS_DOWN + _SQL_DOWN):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
