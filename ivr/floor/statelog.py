"""The call-takers' state history in SQL, copied from the agents' log stream in Redis.

agents/ appends every presence change it publishes to a Redis stream (`agents.keys.Keys.log`)
inside the same Lua script that makes the change, so nothing is lost between the change and its
record, and no webhook pays an extra round trip for it. `drain` moves what the stream holds into
``agent_states`` and then deletes it; the floor's tick (`ivr.connect.actions.tick`, every second
in `ivr worker`), the audit and the reports call it before they read. Any number of processes
may drain at once: an event copied twice is ignored by its (center, seq, at) key, and an entry
is deleted only once it is in SQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from agents import Agents
from ivr.floor.models import AgentState

BATCH = 2000
agent_states = AgentState.__table__


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def row_of(center: str, fields: dict[Any, Any],
           groups: dict[str, frozenset[str]]) -> dict[str, Any] | None:
    """The SQL row of one stream entry (None for an entry that is not an event)."""
    flat = {_text(k): _text(v) for k, v in fields.items()}
    try:
        ev = json.loads(flat["e"])
        skills = groups.get(flat.get("g", ""))
        return {
            "center": center, "seq": int(ev["id"]), "agent": str(ev["agent"]),
            "at": datetime.fromtimestamp(float(flat.get("t") or ev["at"]), UTC),
            "event": str(ev["event"]), "state": str(ev["state"]),
            "reason": (str(ev["reason"])[:200] if ev.get("reason") else None),
            "call_sid": (str(ev["call"]) if ev.get("call") else None),
            "reservation": (str(ev["reservation"]) if ev.get("reservation") else None),
            "skills": sorted(skills) if skills is not None else None,
        }
    except (KeyError, TypeError, ValueError):
        return None


def drain(agents: Agents, engine: Engine, batch: int = BATCH) -> int:
    """Copy the logged presence changes into SQL, oldest first; returns how many."""
    redis, key = agents.redis, agents.keys.log
    done = 0
    while True:
        entries = redis.xrange(key, "-", "+", count=batch)
        if not entries:
            return done
        groups = agents.groups()
        if any(_text(f.get(b"g", f.get("g", ""))) not in groups for _id, f in entries):
            groups = agents.groups(fresh=True)
        center = agents.keys.center
        rows = [r for r in (row_of(center, f, groups) for _id, f in entries) if r is not None]
        if rows:
            dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
            with engine.begin() as conn:
                conn.execute(dialect.insert(agent_states).on_conflict_do_nothing(
                    index_elements=["center", "seq", "at"]), rows)
        redis.xdel(key, *[entry_id for entry_id, _f in entries])
        done += len(rows)
        if len(entries) < batch:
            return done
