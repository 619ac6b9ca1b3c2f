"""The hand-off of a real warm transfer: an EIDO document valid against NENA's schema, with what
the call-taker knew, posted signed to the dispatch center's receiver by an RQ worker."""

from __future__ import annotations

import redis
from rq import Queue

from ivr.platform import outbox_jobs
from ivr.sim import answers
from ivr.transfers import actions as transfers
from tests.e2e.floor import Floor
from tests.e2e.test_connect import PATIENT
from tests.e2e.transfer_support import PSAP, SECRET_ENV, dispatch_center, handoff
from tests.ivr.eido_schema import errors, sample
from tests.ivr.handoff_receiver import Receiver
from tests.ivr.pidf_check import civic
from tests.ivr.pidf_check import problems as pidf_problems
from tests.ivr.rq_support import BurstWorker

SECRET = "psap-secret-for-tests"


def test_warm_transfer_hand_off_is_valid_eido_signed_and_delivered(settings, backend,
                                                                   monkeypatch, caplog) -> None:
    receiver = Receiver(SECRET)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    # the worker's job reads the settings of its process: this test's Redis and database
    monkeypatch.setenv("IVR_DATABASE_URL", backend.database_url)
    monkeypatch.setenv("IVR_REDIS_URL", backend.redis_url)
    caplog.set_level("DEBUG")
    center = dispatch_center(settings, handoff_url=receiver.url)
    try:
        center.sim.on_dial(PSAP, answers(after=5))
        floor = Floor(center)
        floor.login("alice", phone=answers(after=3, hangup_after=600))
        call = center.call(PATIENT)
        floor.run(until=60)
        from ivr.calls import callview

        with center.services.engine.begin() as conn:
            callview.add_note(conn, call.sid, center.clock.now(), "alice", "wires down, sparking")
        t = transfers.start_warm(center.services, call.sid, "alice", "psap",
                                 location="Corner of Elm St and 3rd Ave")
        conn = redis.Redis.from_url(backend.redis_url)
        q = Queue(outbox_jobs.queue_name(center.settings), connection=conn)
        assert q.count == 1  # kicked right after the transfer's transaction
        BurstWorker([q], connection=conn).work(burst=True)
        conn.close()
        [got] = receiver.received
        assert got.signed and got.key == f"transfer-{t.id}"
        doc = got.body
        assert doc == handoff(center, t.id).payload
        assert handoff(center, t.id).delivered_at is not None
        assert errors(doc) == [], "the hand-off does not validate against the EIDO schema"
        # every component the sample of a transferred call carries, we carry too
        wanted = {k for k in sample() if k.endswith("Component")} - {"additionalDataComponent"}
        assert wanted <= set(doc), wanted - set(doc)
        [call_part] = doc["callComponent"]
        assert call_part["direction"] == "incoming"
        assert call_part["callStartTimestamp"] < call_part["answerDate"] <= call_part[
            "lastUpdateTimeStamp"]
        assert doc["callbackComponent"][0]["callBackInformationUri"] == ["tel:+14105550100"]
        [place] = doc["locationComponent"]
        assert place["locationDescriptionText"] == "Corner of Elm St and 3rd Ave"
        assert pidf_problems(place["locationByValue"]) == []
        assert civic(place["locationByValue"])["LOC"] == "Corner of Elm St and 3rd Ave"
        assert [n["notesActionComments"] for n in doc["notesComponent"]] == [
            "wires down, sparking"]
        roles = {a["$id"]: a["agencyRoleDescriptionRegistryText"] for a in doc["agencyComponent"]}
        assert roles == {"311.city.example": ["CallTransferring"],
                         "psap.county.example": ["CallReceiving"]}
        assert doc["agentComponent"][0]["agentRoleRegistryText"] == ["Call Taking"]
        assert t.id in doc["incidentComponent"]["incidentTrackingIdentifier"]
        assert t.id in doc["additionalDataComponent"][0]["additionalDataByValue"]
        assert not [r for r in caplog.records if "4105550100" in r.getMessage()]  # masked
    finally:
        receiver.close()
        center.close()
