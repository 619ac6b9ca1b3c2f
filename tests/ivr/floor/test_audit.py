"""The audit finds each broken invariant in records made to break it, names the calls and the
call-taker involved, and says nothing about the same records made right.

Records are written as the application writes them (calls, their events, the call-takers'
state history), on a day and a center of each test's own.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from ivr.calls.models import Call, CallEvent
from ivr.cli.main import main
from ivr.floor import audit
from ivr.floor.models import AgentState

BOTH = ["line:311", "line:911"]
RANKS = {"emergency": 0, "general": 10}


class Day:
    """A test's records: `t(s)` is `s` seconds into its day."""

    def __init__(self, engine, center: str) -> None:  # type: ignore[no-untyped-def]
        self.engine, self.center = engine, center
        self.start = datetime(2031, 1, 6, 15, 0, tzinfo=UTC) + \
            timedelta(weeks=random.randrange(5000))
        self.seq = count(1)
        self.tag = f"{random.randrange(16**8):08x}"

    def t(self, s: float) -> datetime:
        return self.start + timedelta(seconds=s)

    def sid(self, name: str) -> str:
        return f"CA{self.tag}{name}"

    def call(self, name: str, queue_class: str | None, at: float, outcome: str,
             ended: float | None, skills=("line:311",)) -> str:  # type: ignore[no-untyped-def]
        sid = self.sid(name)
        with self.engine.begin() as conn:
            conn.execute(insert(Call.__table__).values(
                sid=sid, line="911" if queue_class == "emergency" else "311", caller="",
                dialed="", direction="inbound", started_at=self.t(at - 5),
                ended_at=None if ended is None else self.t(ended), twilio_status="completed",
                status_sequence=0, outcome=outcome, queue_class=queue_class,
                queued_at=None if queue_class is None else self.t(at)))
            if queue_class is not None:
                self._event(conn, sid, at, "enqueue", queue_class, {"skills": list(skills)})
        return sid

    def event(self, name: str, at: float, kind: str, agent: str = "") -> None:
        with self.engine.begin() as conn:
            self._event(conn, self.sid(name), at, kind, agent, {"agent": agent})

    def _event(self, conn, sid, at, kind, detail, data) -> None:  # type: ignore[no-untyped-def]
        conn.execute(insert(CallEvent.__table__).values(call_sid=sid, at=self.t(at), kind=kind,
                                                        detail=detail, data=data))

    def state(self, agent: str, at: float, event: str, state: str, call: str | None = None,
              skills=("line:311",)) -> None:  # type: ignore[no-untyped-def]
        with self.engine.begin() as conn:
            conn.execute(insert(AgentState.__table__).values(
                center=self.center, seq=next(self.seq), agent=agent, at=self.t(at), event=event,
                state=state, call_sid=None if call is None else self.sid(call),
                reservation=None, skills=list(skills)))

    def audit(self) -> list[audit.Violation]:
        return audit.audit(self.engine, self.t(-3600), self.t(86400), RANKS, self.center)


@pytest.fixture
def day(services, center_name) -> Day:  # type: ignore[no-untyped-def]
    return Day(services.engine, center_name)


def rules(found: list[audit.Violation]) -> list[str]:
    return [v.rule for v in found]


def answered(day: Day, name: str, agent: str, at: float, queue_class: str = "general",
             skills=("line:311",)) -> None:  # type: ignore[no-untyped-def]
    """A call queued at `at`, offered, accepted and bridged to `agent`, over at +100 s."""
    day.call(name, queue_class, at, "answered", at + 100, skills)
    day.state(agent, at + 1, "offered", "reserved", name, skills=BOTH)
    day.state(agent, at + 2, "accepted", "on_call", name, skills=BOTH)
    day.event(name, at + 3, "bridged", agent)
    day.state(agent, at + 100, "end_call", "wrap_up", name, skills=BOTH)
    day.state(agent, at + 130, "ready", "available", skills=BOTH)


def test_a_clean_day_has_no_violation(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    answered(day, "a", "ann", 10, "emergency", ["line:911"])
    answered(day, "b", "ann", 200)
    day.call("c", "general", 300, "abandoned", 340)
    day.call("d", None, 300, "self-service", 320)
    day.call("e", "general", 400, "live", None)
    assert day.audit() == []


def test_every_call_ends_in_one_final_state(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.call("open", "general", 10, "live", 50)  # hung up, never closed
    day.call("lost", "general", 20, "failed", 60)  # queued, then the app failed it
    day.call("ghost", "general", 30, "answered", 90)  # answered by nobody
    answered(day, "twice", "ann", 100)
    day.event("twice", 150, "abandoned")
    with day.engine.begin() as conn:  # both connected and abandoned
        conn.execute(Call.__table__.update().where(Call.sid == day.sid("twice"))
                     .values(outcome="abandoned"))
    day.call("again", "general", 200, "abandoned", 260)  # two endings recorded
    day.event("again", 250, "abandoned")
    day.event("again", 260, "abandoned")
    day.call("both", "general", 300, "callback", 380)
    day.event("both", 350, "callback")
    day.event("both", 360, "abandoned")
    found = day.audit()
    assert rules(found) == ["final-state"] * 6
    assert [v.calls for v in found] == [
        (day.sid(n),) for n in ("open", "lost", "ghost", "twice", "again", "both")]
    assert "ended twice: abandoned, abandoned" in found[4].message
    assert "no final state" in found[0].message and "'failed'" in found[1].message


def test_no_call_is_offered_to_two_call_takers_at_once(day: Day) -> None:
    for who in ("ann", "bob"):
        day.state(who, 0, "login", "available")
    day.call("x", "general", 10, "answered", 200)
    day.state("ann", 11, "offered", "reserved", "x")
    day.state("ann", 26, "expired", "available", "x")  # handed back: bob may have it now
    day.state("bob", 27, "offered", "reserved", "x")
    day.state("bob", 28, "accepted", "on_call", "x")
    day.event("x", 30, "bridged", "bob")
    assert day.audit() == []
    day.state("ann", 40, "offered", "reserved", "x")  # while bob is on it
    [v] = day.audit()
    assert (v.rule, v.agent, v.calls) == ("double-offer", "ann", (day.sid("x"),))
    assert "while bob held it" in v.message


def test_no_311_call_goes_first_while_a_911_call_the_same_call_taker_could_take_waits(
        day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.state("sam", 0, "login", "available", skills=["line:311"])
    day.call("e", "emergency", 10, "live", None, ["line:911"])
    day.call("g1", "general", 5, "live", None)
    day.call("g2", "general", 6, "live", None)
    # sam cannot take 911 calls: his 311 offer is fine while the 911 call waits
    day.state("sam", 12, "offered", "reserved", "g1", skills=["line:311"])
    day.state("sam", 13, "accepted", "on_call", "g1", skills=["line:311"])
    # ann could: her 311 offer while the 911 call waits is the violation
    day.state("ann", 14, "offered", "reserved", "g2", skills=BOTH)
    found = day.audit()
    assert [(v.rule, v.agent, v.calls) for v in found] == [
        ("priority", "ann", (day.sid("g2"), day.sid("e")))]


@pytest.mark.parametrize("left", ["queue-voicemail", "queue-self-service"])
def test_a_call_that_left_the_line_for_the_flow_is_no_longer_waiting(day: Day,
                                                                      left: str) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.call("e", "emergency", 10, "live", None, ["line:911"])
    day.call("g", "general", 5, "live", None)
    day.event("e", 11, left)
    day.state("ann", 14, "offered", "reserved", "g", skills=BOTH)
    assert [v for v in day.audit() if v.rule == "priority"] == []


def test_a_911_call_offered_first_is_no_longer_waiting(day: Day) -> None:
    for who in ("ann", "bea"):
        day.state(who, 0, "login", "available", skills=BOTH)
    day.call("e", "emergency", 10, "live", None, ["line:911"])
    day.call("g", "general", 5, "live", None)
    day.state("bea", 12, "offered", "reserved", "e", skills=BOTH)
    day.state("ann", 12, "offered", "reserved", "g", skills=BOTH)  # same instant, after
    assert day.audit() == []
    day.state("bea", 27, "expired", "available", "e", skills=BOTH)  # back in line ...
    day.state("ann", 28, "rejected", "available", "g", skills=BOTH)
    day.state("ann", 29, "offered", "reserved", "g", skills=BOTH)  # ... so this is wrong
    [v] = day.audit()
    assert (v.rule, v.calls) == ("priority", (day.sid("g"), day.sid("e")))


def test_a_911_call_offered_in_the_instant_it_joined_the_line_never_waited(day: Day) -> None:
    # The router offers a call inside the webhook that queues it: same timestamp. Found as a
    # false alarm by bench/figures.py on a day of 2,000 calls.
    for who in ("ann", "bea"):
        day.state(who, 0, "login", "available", skills=BOTH)
    day.call("e", "emergency", 10, "live", None, ["line:911"])
    day.state("bea", 10, "offered", "reserved", "e", skills=BOTH)
    day.call("g", "general", 11, "live", None)
    day.state("ann", 12, "offered", "reserved", "g", skills=BOTH)
    assert day.audit() == []


def test_a_timeout_stamped_with_its_deadline_is_placed_where_the_tick_made_it(
        day: Day) -> None:
    # The tick releases an offer a moment after its deadline and stamps the change with the
    # deadline: a 311 offer made in between, while the 911 call was still offered, is fine.
    # Found as a false alarm by `ivr demo --calls 600 --agents 6 --storm`.
    for who in ("ann", "bea"):
        day.state(who, 0, "login", "available", skills=BOTH)
    day.call("e", "emergency", 10, "live", None, ["line:911"])
    day.state("bea", 12, "offered", "reserved", "e", skills=BOTH)
    day.call("g", "general", 28, "live", None)
    day.state("ann", 28, "offered", "reserved", "g", skills=BOTH)
    day.state("bea", 27, "expired", "available", "e", skills=BOTH)  # the tick at 28.4
    day.state("bea", 28.4, "offered", "reserved", "e", skills=BOTH)
    assert day.audit() == []


def test_a_state_change_stamped_a_hair_before_the_call_joined_the_line(day: Day) -> None:
    # Times that went through a 14-digit JSON number lose their last microseconds: the offer
    # of a 911 call can look 25 us older than its joining the line. Found as a false alarm by
    # `ivr demo --calls 600 --agents 6 --storm` (agents' log now carries the exact time too).
    for who in ("ann", "bea"):
        day.state(who, 0, "login", "available", skills=BOTH)
    day.call("e", "emergency", 42.390925, "live", None, ["line:911"])
    day.state("bea", 42.3909, "offered", "reserved", "e", skills=BOTH)
    day.call("g", "general", 44.151195, "live", None)
    day.state("ann", 44.1512, "offered", "reserved", "g", skills=BOTH)
    assert day.audit() == []


@pytest.mark.parametrize(("event", "state", "said"), [
    ("accepted", "on_call", "on call"), ("break", "on_break", "on break"),
    ("end_call", "wrap_up", "wrap up")])
def test_no_call_taker_is_offered_a_call_unless_available(day: Day, event: str, state: str,
                                                          said: str) -> None:
    day.state("ann", 0, "login", "available")
    day.call("x", "general", 10, "answered", 200)
    day.call("y", "general", 20, "abandoned", 60)
    day.state("ann", 11, "offered", "reserved", "x")
    if event != "accepted":
        day.state("ann", 12, "accepted", "on_call", "x")
    day.state("ann", 13, event, state, "x" if event != "break" else None)
    day.state("ann", 30, "offered", "reserved", "y")
    found = [v for v in day.audit() if v.rule == "reserved-while-busy"]
    assert len(found) == 1
    assert found[0].agent == "ann" and said in found[0].message
    assert day.sid("y") in found[0].calls


def test_the_command_prints_each_violation_and_fails(day: Day, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    day.state("ann", 0, "login", "available")
    day.call("open", "general", 10, "live", 50)
    monkeypatch.setenv("IVR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IVR_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("IVR_CENTER", settings.center)
    monkeypatch.setenv("IVR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("IVR_CONFIG", raising=False)
    local = day.start.astimezone(audit_tz(settings)).date().isoformat()
    result = CliRunner().invoke(main, ["audit", "--day", local])
    assert result.exit_code == 1, result.output
    assert f"final-state: the call ended with no final state [calls: {day.sid('open')}]" \
        in result.output
    assert f"{local}: 1 violation(s)" in result.output
    bad = CliRunner().invoke(main, ["audit", "--day", "yesterday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def audit_tz(settings):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)


# -- fault damage (rules 5-9) ---------------------------------------------------------------------


def test_a_call_live_here_that_twilio_ended_and_one_twilio_has_we_never_recorded(
        day: Day) -> None:
    day.call("lost", "general", 10, "live", None)  # its final callback never arrived
    day.call("early", "general", 20, "abandoned", 40)  # ended here, still up at Twilio
    day.call("fine", None, 30, "self-service", 60)
    twilio = {
        day.sid("lost"): audit.TwilioCall(day.sid("lost"), "completed", day.t(5), day.t(70)),
        day.sid("early"): audit.TwilioCall(day.sid("early"), "in-progress", day.t(15), None),
        day.sid("fine"): audit.TwilioCall(day.sid("fine"), "completed", day.t(25), day.t(60)),
        day.sid("unseen"): audit.TwilioCall(day.sid("unseen"), "completed", day.t(50),
                                            day.t(90), to="+14435550311"),
        day.sid("other"): audit.TwilioCall(day.sid("other"), "completed", day.t(50),
                                           day.t(90), to="+15555550000"),
    }
    found = audit.audit(day.engine, day.t(-3600), day.t(86400), RANKS, day.center,
                        twilio=twilio, our_numbers={"+14435550311"})
    assert [(v.rule, v.calls) for v in found] == [
        ("twilio-final-state", (day.sid("early"),)),
        ("twilio-final-state", (day.sid("unseen"),)),
        ("twilio-final-state", (day.sid("lost"),))]
    assert "live here, completed at Twilio" in found[2].message
    assert day.audit() == []  # without Twilio's records the rule cannot tell


def test_a_call_taker_left_on_an_ended_call(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.state("bob", 0, "login", "available", skills=BOTH)
    day.call("gone", "general", 10, "answered", 60)
    day.event("gone", 13, "bridged", "ann")
    day.state("ann", 11, "offered", "reserved", "gone", skills=BOTH)
    day.state("ann", 12, "accepted", "on_call", "gone", skills=BOTH)
    day.state("ann", 200, "end_call", "wrap_up", "gone", skills=BOTH)  # 140 s after the end
    day.call("quick", "general", 300, "answered", 360)
    day.event("quick", 303, "bridged", "bob")
    day.state("bob", 301, "offered", "reserved", "quick", skills=BOTH)
    day.state("bob", 302, "accepted", "on_call", "quick", skills=BOTH)
    day.state("bob", 380, "end_call", "wrap_up", "quick", skills=BOTH)  # 20 s: within slack
    # A callback: the caller hung up at 420 for a call back, which bob is on from 500 to 640.
    day.state("bob", 410, "ready", "available", skills=BOTH)
    day.call("later", "general", 400, "callback", 420)
    day.event("later", 420, "callback", "waited 20 s")
    day.state("bob", 500, "offered", "reserved", "later", skills=BOTH)
    day.state("bob", 501, "accepted", "on_call", "later", skills=BOTH)
    day.state("bob", 640, "end_call", "wrap_up", "later", skills=BOTH)
    found = day.audit()
    assert [(v.rule, v.agent) for v in found] == [("on-call-without-call", "ann")]
    assert "140 s after it ended" in found[0].message


def test_a_call_taker_is_stuck_from_going_on_a_call_that_had_already_ended(day: Day) -> None:
    """An Accept of a call over long ago, closed at once, held no one: only the offer is
    wrong. One left on such a call is stuck from the moment they went on it."""
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.state("bob", 0, "login", "available", skills=BOTH)
    day.call("dead", "general", 10, "abandoned", 30)
    day.event("dead", 200, "offered", "ann")
    day.state("ann", 200, "offered", "reserved", "dead", skills=BOTH)
    day.state("ann", 202, "accepted", "on_call", "dead", skills=BOTH)
    day.state("ann", 202, "end_call", "wrap_up", "dead", skills=BOTH)  # closed at once
    day.call("gone", "general", 10, "abandoned", 40)
    day.state("bob", 300, "offered", "reserved", "gone", skills=BOTH)
    day.state("bob", 301, "accepted", "on_call", "gone", skills=BOTH)
    day.state("bob", 361, "end_call", "wrap_up", "gone", skills=BOTH)  # on it for 60 s
    found = day.audit()
    assert [(v.rule, v.agent) for v in found] == [("offer-after-end", None),
                                                  ("on-call-without-call", "bob")]
    assert "60 s after it ended" in found[1].message


def test_an_offer_after_a_call_ended(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    day.call("dead", "general", 10, "abandoned", 30)
    day.event("dead", 50, "offered", "ann")
    day.event("dead", 52, "offered", "ann")
    day.call("later", "general", 60, "callback", 70)  # offered after the caller hung up, as
    day.event("later", 70, "callback", "waited 10 s")  # a callback is
    day.event("later", 90, "offered", "ann")
    found = day.audit()
    assert [(v.rule, v.calls) for v in found] == [("offer-after-end", (day.sid("dead"),))]
    assert "offered 2 time(s)" in found[0].message


def test_a_replayed_end_of_a_link(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    answered(day, "replayed", "ann", 10)
    day.event("replayed", 109, "ended", "ann")
    day.event("replayed", 110, "ended", "ann")  # the same end, applied twice
    assert [v.rule for v in day.audit()] == ["ended-twice"]


def test_a_caller_parked_by_the_safe_answer_and_never_brought_back(day: Day) -> None:
    day.call("parked", None, 10, "abandoned", 400)
    day.event("parked", 12, "safe-answer")
    day.call("adopted", None, 20, "abandoned", 400)
    day.event("adopted", 22, "safe-answer")
    day.event("adopted", 40, "enqueue")  # the reconciler brought them back in line
    day.call("human", None, 30, "self-service", 400)
    with day.engine.begin() as conn:
        day._event(conn, day.sid("human"), 32, "safe-answer", "dial", {})  # a number was dialed
    day.call("brief", None, 40, "abandoned", 80)  # hung up within the window
    day.event("brief", 42, "safe-answer")
    found = day.audit()
    assert [(v.rule, v.calls) for v in found] == [("parked-unserved", (day.sid("parked"),))]
