"""How a call is stored (the record of ``scripts/_lib.lua``) and the checks on what goes in.

A record is tab-separated: state (``w`` waiting, ``o`` offered), attempts, callback flag,
priority, arrival (the exact ``repr`` of the float the client sent), seq, class, bucket key, and
a JSON object with the call id, the requirements and the data. Nothing in the first eight fields
can hold a tab: classes and centers are checked names, call ids are refused with one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from queues.model import Entry

_BREAKS = re.compile(r"[\t\n\r]")
# Call ids that JSON writes as they are (Twilio's CallSids, uuids): no need to ask json.
_PLAIN = re.compile(r"[A-Za-z0-9_:.-]+")


def entry(raw: bytes | str) -> Entry:
    """The `Entry` a record describes."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    _state, attempts, callback, priority, arrival, seq, cls, _bucket, body = text.split("\t", 8)
    d = json.loads(body)
    return Entry(
        call_id=d["id"],
        queue_class=cls,
        priority=int(priority),
        skills=frozenset(d["r"]),
        arrival=float(arrival),
        data=d["d"],
        callback=callback == "1",
        attempts=int(attempts),
        seq=int(seq),
    )


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def body(call_id: str, reqs_json: str, data: Mapping[str, str]) -> str:
    """The JSON part of a record; `reqs_json` is the sorted requirements, already JSON."""
    quoted = f'"{call_id}"' if _PLAIN.fullmatch(call_id) else dumps(call_id)
    return f'{{"id":{quoted},"r":{reqs_json},"d":{dumps(data) if data else "{}"}}}'


def time_arg(now: float) -> str:
    """`now` as sent to Lua: repr round-trips every bit of the double. Positive, because the
    buckets order arrivals by their IEEE bytes, which sort like the numbers only for x > 0."""
    value = float(now)
    if not (math.isfinite(value) and value > 0):
        raise ValueError("time must be a finite, positive number of epoch seconds")
    return repr(value)


def skill_set(skills: Iterable[str]) -> frozenset[str]:
    if isinstance(skills, str):
        raise TypeError("skills must be a collection of strings, not one string")
    out = frozenset(skills)
    if not all(isinstance(s, str) and s for s in out):
        raise ValueError("skills must be non-empty strings")
    return out


def seq(raw: bytes | str) -> int:
    """The seq field of a record, without reading the rest."""
    return int(raw.split(b"\t" if isinstance(raw, bytes) else "\t", 6)[5])


def check_id(call_id: str) -> None:
    if not isinstance(call_id, str) or not 0 < len(call_id) <= 200 or _BREAKS.search(call_id):
        raise ValueError("call id must be 1..200 characters without tabs or line breaks")


def check_data(data: Mapping[str, str] | None) -> dict[str, str]:
    if not data:
        return {}
    out = dict(data)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in out.items()):
        raise ValueError("call data must map strings to strings")
    return out


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
