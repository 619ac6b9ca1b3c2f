"""How a call is stored (the record of ``scripts/_lib.lua``) and the checks on what goes in.

A record is tab-separated: state (``w`` waiting, ``o`` offered), attempts, callback flag,
priority, arrival (the exact text the client sent: `time_arg`), seq (15 digits), class,
bucket key, and a JSON object with the call id, the requirements and the data. Nothing in the
first eight fields can hold a tab: classes and centers are checked names, call ids are refused
with one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from queues.model import Entry, make_entry

# Call ids that JSON writes as they are (Twilio's CallSids, uuids): no need to ask json.
_PLAIN = re.compile(r"[A-Za-z0-9_:.-]+")


def entry(raw: bytes | str) -> Entry:
    """The `Entry` a record describes."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    _state, attempts, callback, priority, arrival, seq, cls, _bucket, body = text.split("\t", 8)
    call_id, skills, data = _body(body)
    return make_entry(call_id, cls, int(priority), skills, time_value(arrival), data,
                      callback == "1", int(attempts), int(seq))  # fmt: skip


# The requirements part of bodies without data (``["lang:es"],"d":{}}``), read once: a center
# has a handful of requirement sets.
_REQS: dict[str, frozenset[str]] = {}
_NO_DATA = ',"d":{}}'


def _body(body: str) -> tuple[str, frozenset[str], dict[str, str]]:
    """Call id, requirements and data of a record's JSON part. `body` writes it as
    ``{"id":<id>,"r":<requirements>,"d":<data>}``; an id written without escapes (no backslash
    or quote between its quotes) and a call without data are read without json."""
    end = body.find('","r":', 7)
    if body.startswith('{"id":"') and end > 0 and body.endswith(_NO_DATA):
        call_id = body[7:end]
        if "\\" not in call_id and '"' not in call_id:
            rest = body[end + 6:]
            skills = _REQS.get(rest)
            if skills is None:
                if len(_REQS) >= 4096:
                    _REQS.clear()
                skills = _REQS[rest] = frozenset(json.loads(rest[: -len(_NO_DATA)]))
            return call_id, skills, {}
    d = json.loads(body)
    return d["id"], frozenset(d["r"]), d["d"]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def body(call_id: str, reqs_json: str, data: Mapping[str, str]) -> str:
    """The JSON part of a record; `reqs_json` is the sorted requirements, already JSON."""
    quoted = f'"{call_id}"' if _PLAIN.fullmatch(call_id) else dumps(call_id)
    return f'{{"id":{quoted},"r":{reqs_json},"d":{dumps(data) if data else "{}"}}}'


def time_arg(now: float) -> str:
    """`now` as sent to Lua: a hexadecimal float (``float.hex``), which carries every bit of
    the double and costs neither side a decimal conversion (repr's shortest decimal was a
    tenth of the client's cost of a push and a pop; Lua's tonumber reads it through strtod).
    Positive, because the buckets order arrivals by their IEEE bytes, which sort like the
    numbers only for x > 0."""
    value = float(now)
    if not (math.isfinite(value) and value > 0):
        raise ValueError("time must be a finite, positive number of epoch seconds")
    return value.hex()


def time_value(text: str) -> float:
    """A time written by `time_arg` (or, in records written before it, by repr)."""
    return float.fromhex(text) if text.startswith("0x") else float(text)


def skill_set(skills: Iterable[str]) -> frozenset[str]:
    if isinstance(skills, str):
        raise TypeError("skills must be a collection of strings, not one string")
    out = frozenset(skills)
    if not all(isinstance(s, str) and s for s in out):
        raise ValueError("skills must be non-empty strings")
    return out


def check_id(call_id: str) -> None:
    if (
        not isinstance(call_id, str)
        or not 0 < len(call_id) <= 200
        or "\t" in call_id
        or "\n" in call_id
        or "\r" in call_id
    ):
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
