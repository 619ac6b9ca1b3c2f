"""The record's JSON part reads back as what was written, whatever the call id and data hold
(`records.body` writes plain ids without asking json, so this checks that shortcut)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from queues import Entry, records

ids = st.text(min_size=1, max_size=40).filter(lambda s: not any(c in s for c in "\t\n\r"))


@given(call_id=ids, data=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_the_json_part_reads_back(call_id: str, data: dict[str, str]) -> None:
    text = records.body(call_id, '["lang:es"]', data)
    assert json.loads(text) == {"id": call_id, "r": ["lang:es"], "d": data}


def test_ids_that_json_must_escape() -> None:
    for call_id in ('say "hi"', "back\\slash", "caf\u00e9", "\u0007bell", "CA12:x-y.z_0"):
        assert json.loads(records.body(call_id, "[]", {}))["id"] == call_id


@given(
    call_id=ids,
    reqs=st.frozensets(st.text(min_size=1, max_size=6), max_size=3),
    data=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
def test_a_record_reads_back_as_the_entry_written(
    call_id: str, reqs: frozenset[str], data: dict[str, str]
) -> None:
    """`records.entry` reads plain ids and calls without data without json: whatever the id
    holds, the entry is the one written (equal to one built the ordinary way, same hash)."""
    for cid in (call_id, 'a","r":["x"],"d":{}}', 'q"uote', "back\\slash", "CA-1:x"):
        body = records.body(cid, records.dumps(sorted(reqs)), data)
        raw = "\t".join(["o", "2", "1", "4", "1700000000.25", "000000000000007", "general",
                         "q:{c}:b:general:0", body])  # fmt: skip
        got = records.entry(raw.encode())
        want = Entry(cid, "general", 4, reqs, 1700000000.25, data, callback=True, attempts=2,
                     seq=7)  # fmt: skip
        assert got == want and hash(got) == hash(want)
