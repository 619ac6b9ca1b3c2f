"""The virtual clock and the scheduler: time moves only with the simulation, for many calls."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import request
from sim_helpers import ACCOUNT, CALLER, NUMBER, PUBLIC, TOKEN, App, twiml
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator, NumberConfig, SimClock, Timing, WSGITransport, press
from ivr.sim.scheduler import TIMEOUT, Scheduler, Wait

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def test_the_clock_is_aware_and_moves_only_with_the_simulation(app: App) -> None:
    with pytest.raises(ValueError):
        SimClock(datetime(2025, 1, 1))
    clock = SimClock(START)

    @app.post("/voice")
    def voice():
        return twiml(VoiceResponse().say("It is " + clock.now().strftime("%H:%M")))

    sim = Emulator(ACCOUNT, TOKEN, [NumberConfig(NUMBER, PUBLIC + "/voice")], WSGITransport(app),
                   clock=clock)
    assert clock.now() == START and clock.now().tzinfo is not None
    call = sim.place_call(Caller(CALLER, NUMBER), at=START + timedelta(minutes=90))
    time.sleep(0.01)
    assert clock.now() == START
    sim.advance(60)
    assert clock.now() == START + timedelta(seconds=60) and not call.transcript
    sim.run(until=START + timedelta(hours=2))
    assert call.heard() == ["It is 09:30"]
    assert clock.now() == START + timedelta(hours=2)


def test_processes_wait_are_resumed_and_interrupted() -> None:
    sched = Scheduler(SimClock(START))
    log: list[tuple[float, str]] = []

    def sleeper():
        yield 5
        log.append((sched.clock.elapsed, "woke"))
        got = yield Wait(timeout=10)
        log.append((sched.clock.elapsed, f"got {got}"))
        try:
            yield 100
        except KeyError:
            log.append((sched.clock.elapsed, "interrupted"))
        got = yield Wait(timeout=3)
        log.append((sched.clock.elapsed, "timeout" if got is TIMEOUT else "resumed"))

    proc = sched.spawn(sleeper(), "sleeper")
    sched.call_at(7, proc.resume, "news")
    sched.call_at(20, proc.interrupt, KeyError("hang up"))
    cancelled = sched.call_at(21, log.append, (21, "never"))
    cancelled.cancel()
    sched.run()
    assert log == [(5, "woke"), (7, "got news"), (20, "interrupted"), (23, "timeout")]
    assert proc.done and sched.clock.elapsed == 23


def test_an_interrupt_that_no_longer_applies_is_dropped() -> None:
    sched = Scheduler(SimClock(START))
    woke: list[float] = []

    class Stale(Exception):
        def relevant(self) -> bool:
            return False

    def sleeper():
        yield 100
        woke.append(sched.clock.elapsed)

    proc = sched.spawn(sleeper())
    sched.call_at(10, proc.interrupt, Stale())
    sched.run()
    assert woke == [100]


def test_200_concurrent_calls_share_one_clock(app: App) -> None:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.gather(num_digits=1, action="/queue").say("Press one for a call-taker")
        return twiml(r)

    @app.post("/queue")
    def queue():
        r = VoiceResponse()
        r.enqueue("311", wait_url="/wait", action="/after")
        return twiml(r)

    @app.post("/wait")
    def wait_music():
        r = VoiceResponse()
        r.say(f"You are caller {request.form['QueuePosition']}")
        r.play("/music.mp3")
        return twiml(r)

    @app.post("/after")
    def after():
        return twiml(VoiceResponse().say(request.form["QueueResult"]))

    sim = Emulator(ACCOUNT, TOKEN, [NumberConfig(NUMBER, PUBLIC + "/voice")], WSGITransport(app),
                   timing=Timing(media_seconds=60))
    # One caller every 0.5 s; each waits in the queue until its patience runs out.
    calls = [sim.place_call(Caller(f"+1410555{i:04d}", NUMBER, script=[press("1")],
                                   hangup_after=150 + i), at=i * 0.5)
             for i in range(200)]
    started = time.perf_counter()
    sim.advance(110)
    q = sim.queues.by_name["311"]
    assert len(q) == 200 and [m.position() for m in q.members()] == list(range(1, 201))
    last = [h.params for h in app.hits("/wait") if h.params["CallSid"] == calls[-1].sid][-1]
    assert (last["QueuePosition"], last["CurrentQueueSize"]) == ("200", "200")
    sim.run_until_idle()
    assert time.perf_counter() - started < 10
    assert all(c.status == "completed" and c.hung_up_by == "caller" for c in calls)
    assert [c.ended_t for c in calls] == [pytest.approx(i * 0.5 + 150 + i) for i in range(200)]
    assert all(hit.signed for hit in app.received)
    assert not any(c.application_error for c in calls)
    assert len(q) == 0 and len(app.hits("/after")) == 200
    assert sim.clock.elapsed == pytest.approx(99.5 + 150 + 199)
