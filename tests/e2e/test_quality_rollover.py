"""Quality review picks every rollover (issue 19: rollovers are recorded as ``rollover`` call
events): a 911 caller rolled to the alternate PSAP on an empty floor is in the review list
with that reason, though no call-taker of this center took the call."""

from __future__ import annotations

from ivr.quality import review
from ivr.quality.config import QualityConfig
from ivr.sim import answers, hangup, wait
from tests.e2e.conftest import LINE_911
from tests.e2e.floor import Floor
from tests.e2e.test_rollover import NO_STAFF_AFTER, rollover_center
from tests.e2e.transfer_support import PSAP, transfers_of


def test_a_rolled_over_call_is_always_reviewed(settings) -> None:  # type: ignore[no-untyped-def]
    center = rollover_center(settings)
    try:
        center.sim.on_dial(PSAP, answers(after=4, hangup_after=30))
        floor = Floor(center)
        caller = center.call([wait(600), hangup()], line=LINE_911)
        floor.run(until=NO_STAFF_AFTER + 60)
        [t] = transfers_of(center, caller.sid)
        assert t.mode == "rollover"
        svc = center.services
        config = QualityConfig.from_raw(svc.settings.raw)
        assert "rollover" in config.always
        found = review.period(svc.engine, config, center.clock.now().date(),
                              svc.settings.timezone)
        [pick] = [p for p in found.picks if p.sid == caller.sid]
        assert pick.reasons == ("rollover",) and pick.agent == ""
    finally:
        center.close()
