"""The webhooks' gathered SQL writes (Pending), on the embedded default and the servers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from ivr.calls import calllog
from ivr.platform.db import Pending
from ivr.services import Services


def test_events_gathered_in_a_row_are_one_insert_and_keep_their_order(
        services: Services) -> None:
    sid = "CA" + secrets.token_hex(16)
    at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    pending = Pending(services.engine)
    calllog.open_call(pending, sid=sid, line="311", caller="+14105550100",
                      dialed="+14435550311", at=at, flow="311", flow_version=1)
    calllog.add_event(pending, sid, at, "incoming", "line 311", {"flow": "311"})
    calllog.add_events(pending, sid, at, (("menu", "1"), ("say", "hello")))
    calllog.set_language(pending, sid, "es")
    calllog.add_event(pending, sid, at, "transfer", "number")
    assert len(pending._ops) == 4  # upsert, 3 events, update, 1 event
    pending.apply(services.engine)
    assert pending._ops == []
    with services.engine.connect() as conn:
        rows = conn.execute(select(calllog.call_events.c.kind, calllog.call_events.c.data)
                            .where(calllog.call_events.c.call_sid == sid)
                            .order_by(calllog.call_events.c.id)).all()
        language = conn.scalar(select(calllog.calls.c.language)
                               .where(calllog.calls.c.sid == sid))
    assert [kind for kind, _ in rows] == ["incoming", "menu", "say", "transfer"]
    assert rows[0].data == {"flow": "311"}
    assert language == "es"
