"""The reconciler against the emulator's REST resources (Twilio's truth), end to end.

Faults are made as they happen in production: the app's host refuses connections for a while
(a restart gap: webhooks and status callbacks are lost, Twilio does not retry them), or Redis
cannot be reached when a caller arrives (the safe answer parks them in a Twilio queue). Then the
reconciler runs (`reconcile`, the job the ticker schedules every 15 s) and every difference is
repaired and recorded.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from agents import OfferClosed
from ivr.calls.repairs import Repair
from ivr.connect import actions as connect
from ivr.floor.audit import audit_services, twilio_records
from ivr.sim import answers, hangup, press, wait
from ivr.telephony.safe import fallback_queue_name
from ivr.voice.reconcile import reconcile
from tests.e2e.conftest import OPEN_HOURS
from tests.e2e.floor import IGNORE, Floor
from tests.e2e.helpers import events
from tests.e2e.helpers import record as sql_record

TO_A_CALL_TAKER = [press("1"), press("0")]
IN_LINE_AT = 42


def repairs_of(center, sid: str, kind: str | None = None) -> list[Repair]:  # type: ignore[no-untyped-def]
    """The repairs of one call (the database is shared by the tests of a backend)."""
    with center.services.sessions() as session:
        rows = session.scalars(select(Repair).where(Repair.call_sid == sid)
                               .order_by(Repair.id)).all()
    return [r for r in rows if kind is None or r.kind == kind]


def audited(center, *sids: str) -> list[tuple[str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    """The audit of the test's calls, against the emulator's records (as `ivr audit --twilio`)."""
    svc = center.services
    start = OPEN_HOURS - timedelta(hours=1)
    end = center.clock.now() + timedelta(hours=1)
    found = audit_services(svc, start, end,
                           twilio=twilio_records(svc.telephony.client, start, end))
    return [(v.rule, v.calls) for v in found if set(v.calls) & set(sids)]


def test_a_caller_lost_in_a_restart_gap_is_ended_and_never_offered(center) -> None:
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(30), hangup()])
    floor.run(until=IN_LINE_AT + 10)
    center.sim.take_down()  # the caller hangs up while nothing answers: both callbacks are lost
    floor.run(until=IN_LINE_AT + 40)
    center.sim.bring_up()
    assert call.status == "completed" and len(center.sim.fault_log("refused")) >= 2
    assert [cb.event for cb in center.sim.lost_status(call)] == ["completed"]
    assert sql_record(center, call.sid).outcome == "live"  # the damage the old code kept
    floor.run(until=IN_LINE_AT + 70)
    assert audited(center, call.sid) == [("twilio-final-state", (call.sid,))]
    done = reconcile(center.services)
    assert done.ended == [call.sid]
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned" and rec.twilio_status == "completed"
    assert rec.ended_at.timestamp() <= center.clock.now().timestamp() - 25  # Twilio's end time
    [repair] = repairs_of(center, call.sid, "call-ended")
    assert repair.call_sid == call.sid and "completed at Twilio" in repair.differed
    floor.login("alice", phone=answers(after=3))
    floor.run(until=IN_LINE_AT + 100)
    assert floor.state("alice") == "available"
    assert not events(center, call.sid, "offered")
    assert reconcile(center.services).repairs == 0  # repaired once
    assert audited(center, call.sid) == []


def test_a_caller_whose_hang_up_was_lost_is_never_offered(center) -> None:
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(30), hangup()])
    floor.run(until=IN_LINE_AT + 10)
    center.sim.take_down()
    floor.run(until=IN_LINE_AT + 40)
    center.sim.bring_up()
    assert call.status == "completed" and sql_record(center, call.sid).outcome == "live"
    # Before any reconciler pass a call-taker becomes free: the match is checked with Twilio
    # before it is offered, and the dead call is ended instead.
    floor.login("alice", phone=answers(after=3))
    floor.run(until=IN_LINE_AT + 45)
    assert not events(center, call.sid, "offered")
    assert floor.state("alice") == "available"
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned" and rec.twilio_status == "completed"
    [repair] = repairs_of(center, call.sid, "call-ended")
    assert "when offered to alice" in repair.differed
    assert audited(center, call.sid) == []


def test_an_accept_whose_caller_is_gone_closes_the_call_at_once(center) -> None:
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(600), hangup()])
    floor.run(until=IN_LINE_AT + 5)
    floor.login("alice", phone=answers(after=3), console=IGNORE)
    floor.run(until=IN_LINE_AT + 7)
    [offer] = [r for r in center.services.router.reservations.all() if r.call_id == call.sid]
    # The caller hangs up while the offer rings, and that callback is lost.
    center.sim.take_down()
    center.sim.hangup(call, "caller")
    floor.run(until=IN_LINE_AT + 9)
    center.sim.bring_up()
    assert [cb.event for cb in center.sim.lost_status(call)] == ["completed"]
    try:
        connect.accept(center.services, offer.reservation_id, "alice")
        raise AssertionError("accepted a call whose caller is gone")
    except OfferClosed as exc:
        assert exc.reason == "caller_gone"
    assert floor.state("alice") == "available"  # no wrap-up of a call that never was
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned" and rec.ended_at is not None
    assert [r.kind for r in repairs_of(center, call.sid)] == ["accept-closed"]
    floor.run(until=IN_LINE_AT + 50)
    assert len(events(center, call.sid, "offered")) == 1  # closed, not requeued
    assert audited(center, call.sid) == []


def test_a_call_that_never_reached_us_is_recorded_as_failed(center) -> None:
    floor = Floor(center)
    center.sim.take_down()  # the only host is down for the whole call: Twilio's application error
    call = center.call([*TO_A_CALL_TAKER, wait(30), hangup()])
    floor.run(until=10)
    center.sim.bring_up()
    assert call.ended and call.application_error
    assert audited(center, call.sid) == [("twilio-final-state", (call.sid,))]
    done = reconcile(center.services)
    assert done.unrecorded == [call.sid]
    rec = sql_record(center, call.sid)
    assert rec.outcome == "failed" and rec.line == "311" and rec.ended_at is not None
    assert [r.kind for r in repairs_of(center, call.sid)] == ["call-unrecorded"]
    assert events(center, call.sid, "never-reached")
    assert reconcile(center.services).unrecorded == []  # recorded once
    assert audited(center, call.sid) == []


def test_a_caller_the_safe_answer_parked_is_brought_back_in_line_and_served(
        center, monkeypatch) -> None:
    svc = center.services
    svc.settings.raw["outage"] = {"hold_seconds": 0}  # straight to the safe answer
    real_get = svc.live.get
    down = {"on": True}

    def get(sid):  # type: ignore[no-untyped-def]
        if down["on"]:
            raise redis.ConnectionError("Connection refused")
        return real_get(sid)

    monkeypatch.setattr(svc.live, "get", get)
    floor = Floor(center)
    call = center.call([wait(600), hangup()])
    floor.run(until=30)  # the apology said, the caller waits in the safe queue
    assert [m.call.sid for q in center.sim.queues.by_sid.values() for m in q.members()
            if q.friendly_name == fallback_queue_name(svc.settings)] == [call.sid]
    down["on"] = False
    floor.run(until=60)
    done = reconcile(svc)
    assert done.requeued == [call.sid]
    [repair] = repairs_of(center, call.sid, "caller-requeued")
    assert repair.call_sid == call.sid and "general" in repair.done
    rec = sql_record(center, call.sid)
    assert rec.queue_class == "general" and rec.queued_at is not None
    assert rec.queued_at.timestamp() <= center.clock.now().timestamp() - 25  # its own arrival
    floor.login("alice", phone=answers(after=3, hangup_after=20))
    floor.run(until=100)
    assert [k for k, _d, _ in events(center, call.sid, "offered", "accepted", "bridged")] == [
        "offered", "accepted", "bridged"]
    assert reconcile(svc).requeued == []  # in line now: left alone
    assert audited(center, call.sid) == []


def test_a_call_taker_whose_link_redis_lost_is_freed(center) -> None:
    svc = center.services
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=300))
    call = center.call([*TO_A_CALL_TAKER, wait(120), hangup()])
    floor.run(until=IN_LINE_AT + 10)
    assert svc.agents.get("alice").state.value == "on_call"
    floor.run(until=IN_LINE_AT + 35)
    assert reconcile(svc).repairs == 0  # a healthy call, however long, is left alone
    link = svc.links.for_call(call.sid)
    svc.redis.delete(svc.links.key(link.reservation_id), svc.links.call_key(call.sid))
    floor.run(until=IN_LINE_AT + 40)
    assert floor.state("alice") == "on_call"  # nothing left that would ever end it
    done = reconcile(svc)
    assert done.freed == ["alice"] and floor.state("alice") == "wrap_up"
    [freed] = repairs_of(center, call.sid, "agent-freed")
    assert freed.agent_id == "alice" and "no open link" in freed.differed


def test_a_call_taker_left_on_a_dead_call_goes_to_wrap_up(center) -> None:
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3))  # would talk forever
    call = center.call([*TO_A_CALL_TAKER, wait(40), hangup()])
    floor.run(until=IN_LINE_AT + 20)
    assert floor.state("alice") == "on_call"
    center.sim.take_down()  # the caller hangs up: status, conference and leg events all lost
    floor.run(until=IN_LINE_AT + 60)
    center.sim.bring_up()
    floor.run(until=IN_LINE_AT + 90)
    assert call.status == "completed" and floor.state("alice") == "on_call"
    done = reconcile(center.services)
    # Twilio says the caller's call is over: ended here, which closes its link (the same code
    # as its lost callback), and the call-taker goes to wrap-up.
    assert done.ended == [call.sid] and floor.state("alice") == "wrap_up"
    [ended] = repairs_of(center, call.sid, "call-ended")
    assert "connected" in ended.differed
    assert [k for k, _d, _ in events(center, call.sid, "ended")] == ["ended"]
    floor.run(until=IN_LINE_AT + 130)
    assert floor.state("alice") == "available"
    assert audited(center, call.sid) == []


@pytest.mark.parametrize("status_late", [False, True], ids=["status-in-time", "status-late"])
def test_a_caller_who_hangs_up_while_the_reconciler_reads_the_queues_stays_out_of_line(
        center, status_late: bool) -> None:
    """Twilio's list of queue members is true when it is answered; the caller can hang up
    before the reconciler acts on it. The caller's own webhooks take them out of line then, and
    the reconciler must not put them back (the full-scale load run offered such callers to a
    call-taker minutes after they had hung up). With `status_late` only the Enqueue action has
    arrived when the reconciler acts (the final status callback comes later): nothing here says
    yet that the call has ended, Twilio does."""
    svc = center.services
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(600), hangup()])
    floor.run(until=IN_LINE_AT + 10)
    assert svc.queues.position(call.sid, center.clock.now().timestamp()) is not None

    def hangs_up_now() -> None:  # the members list is answered: the caller leaves, and Twilio
        center.sim.status.policy.hold = status_late  # tells the app (Enqueue action, status
        center.sim.hangup(call, "caller")  # callback)
        center.sim.run(until=center.sim.clock.elapsed + 1)

    center.sim.after_rest("members", hangs_up_now)
    done = reconcile(svc)
    assert call.status == "completed" and events(center, call.sid, "abandoned")
    assert (sql_record(center, call.sid).ended_at is None) == status_late
    center.sim.status.policy.hold = False
    center.sim.deliver_status(call)
    assert done.requeued == []
    assert svc.queues.position(call.sid, center.clock.now().timestamp()) is None
    assert not repairs_of(center, call.sid)
    floor.login("alice", phone=answers(after=3))
    floor.run(until=IN_LINE_AT + 40)
    assert floor.state("alice") == "available"
    assert not events(center, call.sid, "offered", "accepted")
    assert audited(center, call.sid) == []


def test_a_caller_whose_hang_up_was_lost_is_never_offered_by_the_ticker(center) -> None:
    """A call-taker freed by the floor's clock (end of wrap-up) is offered by the ticker's
    routing, not a webhook's: that offer too is checked with Twilio before it is made."""
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=20))
    first = center.call([*TO_A_CALL_TAKER, wait(600), hangup()], caller="+14105550101")
    second = center.call([*TO_A_CALL_TAKER, wait(10), hangup()], caller="+14105550102", at=5)
    floor.run(until=IN_LINE_AT + 10)  # alice talks to the first caller, the second waits
    assert floor.state("alice") == "on_call" and events(center, first.sid, "bridged")
    center.sim.take_down()  # the second caller hangs up: their callbacks are lost
    floor.run(until=IN_LINE_AT + 20)
    center.sim.bring_up()
    assert second.status == "completed" and sql_record(center, second.sid).outcome == "live"
    floor.run(until=IN_LINE_AT + 35)
    assert floor.state("alice") == "wrap_up"  # the first call is over; the second still in line
    floor.run(until=IN_LINE_AT + 80)  # wrap-up over: the ticker routes alice
    assert floor.state("alice") == "available"
    assert not events(center, second.sid, "offered", "accepted")
    rec = sql_record(center, second.sid)
    assert rec.outcome == "abandoned" and rec.twilio_status == "completed"
    [repair] = repairs_of(center, second.sid)
    assert repair.kind == "call-ended" and "when offered to alice" in repair.differed
    assert audited(center, first.sid, second.sid) == []


def test_a_call_ended_here_but_back_in_line_is_withdrawn_when_offered(center) -> None:
    """Damage built on purpose: a call whose end was recorded goes back in line (as the
    reconciler once put a caller who hung up while it read Twilio's queues). Its end, applied
    again at the offer, changes nothing any more; the offer itself is withdrawn, so the
    call-taker is never left holding it (nor accepts it)."""
    svc = center.services
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(10), hangup()])
    floor.run(until=IN_LINE_AT + 20)
    assert sql_record(center, call.sid).ended_at is not None
    [(_kind, queue_class, data)] = events(center, call.sid, "enqueue")
    svc.queues.push(call.sid, queue_class, int(data["priority"]), data["skills"],
                    center.clock.now().timestamp() - 30, {"line": "311"}, with_position=False)
    floor.login("alice", phone=answers(after=3))
    floor.run(until=IN_LINE_AT + 40)
    assert floor.state("alice") == "available"
    assert not events(center, call.sid, "offered", "accepted")
    assert svc.queues.position(call.sid, center.clock.now().timestamp()) is None
    assert [r.kind for r in repairs_of(center, call.sid)] == ["call-ended"]


def test_a_call_taker_whose_link_was_closed_is_freed_only_if_nobody_else_does(center) -> None:
    """A link closed a moment ago is being finished by whoever closed it (it frees the
    call-taker next): no repair then. One whose closer died before freeing the call-taker
    (damage built on purpose: the link closed, nothing else) is freed on a later pass."""
    svc = center.services
    floor = Floor(center)
    floor.login("alice", phone=answers(after=3, hangup_after=300))
    call = center.call([*TO_A_CALL_TAKER, wait(300), hangup()])
    floor.run(until=IN_LINE_AT + 20)
    assert floor.state("alice") == "on_call"
    link = svc.links.for_call(call.sid)
    svc.links.close(link.reservation_id, "ended", center.clock.now().timestamp(), "agent")
    assert reconcile(svc).freed == [] and floor.state("alice") == "on_call"
    floor.run(until=IN_LINE_AT + 30)
    assert reconcile(svc).freed == ["alice"] and floor.state("alice") == "wrap_up"
    [freed] = repairs_of(center, call.sid, "agent-freed")
    assert "no open link" in freed.differed


def test_a_call_that_just_ended_at_twilio_is_left_to_its_own_final_status(center) -> None:
    """Its final status callback is on its way: the reconciler ends only what Twilio ended
    more than its grace ago (ended at Twilio's end time, the offer made just before it would
    look like an offer after the end)."""
    svc = center.services
    floor = Floor(center)
    call = center.call([*TO_A_CALL_TAKER, wait(30), hangup()])
    center.sim.status.policy.hold = True
    floor.run(until=IN_LINE_AT + 32)  # hung up 2 s ago; the final status not yet delivered
    assert call.status == "completed" and sql_record(center, call.sid).ended_at is None
    assert reconcile(svc).ended == []
    floor.run(until=IN_LINE_AT + 40)
    assert reconcile(svc).ended == [call.sid]  # lost after all: ended by the reconciler
    center.sim.status.policy.hold = False
    center.sim.deliver_status(call)
    floor.run(until=IN_LINE_AT + 45)
    assert [r.kind for r in repairs_of(center, call.sid)] == ["call-ended"]
    assert audited(center, call.sid) == []
