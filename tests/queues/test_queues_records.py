"""The record's JSON part reads back as what was written, whatever the call id and data hold
(`records.body` writes plain ids without asking json, so this checks that shortcut)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from queues import records

ids = st.text(min_size=1, max_size=40).filter(lambda s: not any(c in s for c in "\t\n\r"))


@given(call_id=ids, data=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_the_json_part_reads_back(call_id: str, data: dict[str, str]) -> None:
    text = records.body(call_id, '["lang:es"]', data)
    assert json.loads(text) == {"id": call_id, "r": ["lang:es"], "d": data}


def test_ids_that_json_must_escape() -> None:
    for call_id in ('say "hi"', "back\\slash", "caf\u00e9", "\u0007bell", "CA12:x-y.z_0"):
        assert json.loads(records.body(call_id, "[]", {}))["id"] == call_id
