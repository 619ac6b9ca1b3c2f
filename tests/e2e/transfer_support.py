"""A center with dispatch centers configured, for the transfer tests, and what to read back."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from ivr.platform import outbox
from ivr.transfers import records
from tests.e2e.conftest import Center

PSAP = "+14435550999"
PSAP_BACKUP = "+14435550998"
SECRET_ENV = "IVR_DISPATCH_SECRET_PSAP"

DISPATCH = {
    "psap": {"label": "County 911 dispatch", "number": PSAP, "secondary": PSAP_BACKUP,
             "agency": "psap.county.example"},  # hand-offs pulled (tests/ivr push them)
    "fire": {"label": "Fire dispatch", "number": "sip:dispatch@fire.example.org"},
}


def dispatch_center(settings, menu: bool = False, handoff_url: str | None = None,  # type: ignore[no-untyped-def]
                    ring: int = 30) -> Center:
    centers = {k: dict(v) for k, v in DISPATCH.items()}
    if handoff_url is not None:
        centers["psap"]["handoff_url"] = handoff_url
    raw = {**settings.raw, "dispatch_centers": centers,
           "transfers": {**settings.raw.get("transfers", {}), "ring_seconds": ring,
                         "menu": {"911": "psap"} if menu else {},
                         "handoff_queue": f"handoff-{settings.center}"}}
    return Center(dataclasses.replace(settings, raw=raw))


def transfers_of(center, call_sid: str) -> list[records.Transfer]:  # type: ignore[no-untyped-def]
    with center.services.engine.connect() as conn:
        rows = conn.execute(select(records.transfers.c.id)
                            .where(records.transfers.c.call_sid == call_sid)
                            .order_by(records.transfers.c.started_at)).all()
        return [records.get(conn, r.id) for r in rows]  # type: ignore[misc]


def steps(center, transfer_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with center.services.engine.connect() as conn:
        return [s["kind"] for s in records.steps_of(conn, transfer_id)]


def handoff(center, transfer_id: str) -> outbox.Message:  # type: ignore[no-untyped-def]
    with center.services.engine.connect() as conn:
        found = outbox.by_key(conn, f"transfer-{transfer_id}")
    assert found is not None, f"no hand-off for transfer {transfer_id}"
    return found


def dispatch_legs(center, number: str = PSAP) -> list:  # type: ignore[no-untyped-def]
    return [c for c in center.sim.calls.values() if c.to == number]
