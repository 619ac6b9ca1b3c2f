"""Discrete-event scheduling: one event heap, many call processes, one virtual clock.

A *process* is a generator. It yields how long it is busy (a number of virtual seconds, e.g. the
length of a `<Say>`) or a `Wait` (suspend until another process resumes it, or a timeout).
Other parties reach a process only by `Process.resume(value)` or `Process.interrupt(exc)`:
an interrupt is raised inside the generator at the `yield` where it is suspended, so a verb's
`try/except` is where a call reacts to a hang-up or a REST redirect in the middle of that verb.

HTTP requests take no virtual time. While a webhook is in flight the scheduler's lock is released
(`Scheduler.unlocked`), so a REST request the app makes from another thread can change state;
its effects are queued as interrupts and delivered at the process's next `yield`.

Per event the cost is one `heappush`, one `heappop` and one generator `send`: thousands of
concurrent calls are cheap. The real cost of a simulated call is the HTTP it does.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from itertools import count
from typing import Any

from ivr.sim.clock import SimClock


class _Timeout:
    __slots__ = ()

    def __repr__(self) -> str:
        return "TIMEOUT"


TIMEOUT: Any = _Timeout()
"""The value a `Wait` resumes with when its timeout elapsed first."""


class Wait:
    """Yielded by a process: suspend until resumed, or until `timeout` virtual seconds passed."""

    __slots__ = ("timeout",)

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout


Step = Generator["float | Wait", Any, Any]


class Timer:
    """A scheduled callback that can still be cancelled."""

    __slots__ = ("fn", "args", "cancelled", "when")

    def __init__(self, when: float, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.when = when
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def _fire(self, _a: object, _b: object) -> bool:
        if self.cancelled:
            return False
        self.cancelled = True
        self.fn(*self.args)
        return True


class Process:
    """A running generator, driven by the scheduler. See the module docstring."""

    __slots__ = (
        "name", "_gen", "_sched", "_token", "_pending", "_running", "_kicked", "_wake", "done",
        "waiting", "started",
    )

    def __init__(self, sched: Scheduler, gen: Step, name: str) -> None:
        self.name = name
        self._gen = gen
        self._sched = sched
        self._token = 0
        self._pending: deque[BaseException] = deque()
        self._running = False
        self._kicked = False
        self._wake: tuple[float, Any] | None = None  # when and with what it would wake
        self.done = False
        self.waiting = False
        self.started = False

    def resume(self, value: Any = None) -> bool:
        """Wake a process suspended in a `Wait`, which receives `value`. False if not waiting."""
        if self.done or not self.waiting or self._running:
            return False
        self.waiting = False
        self._kicked = False
        self._token += 1
        self._sched._push(self._sched.clock._t, self._step, self._token, value)
        return True

    def interrupt(self, exc: BaseException) -> None:
        """Raise `exc` inside the process at its current (or next) `yield`, at the current time."""
        if self.done:
            return
        self._pending.append(exc)
        if not self._running and not self._kicked:
            self._kicked = True
            self._token += 1
            self._sched._push(self._sched.clock._t, self._step, self._token, None)

    def _next_interrupt(self) -> BaseException | None:
        """The next pending interrupt that still applies (see `CallInterrupt.relevant`)."""
        while self._pending:
            exc = self._pending.popleft()
            relevant = getattr(exc, "relevant", None)
            if relevant is None or relevant():
                return exc
        return None

    def _step(self, token: int, value: Any) -> bool:
        if token != self._token or self.done:
            return False
        kicked, self._kicked = self._kicked, False
        if not self.started:  # run to the first yield; a pending interrupt lands there
            self.started, exc, value = True, None, None
        else:
            exc = self._next_interrupt()
            if exc is None and kicked:  # every interrupt was stale: sleep on as before
                self._sleep()
                return False
        self.waiting = False
        self._running = True
        try:
            while True:
                try:
                    cmd = self._gen.send(value) if exc is None else self._gen.throw(exc)
                except StopIteration:
                    self._finish()
                    return True
                except BaseException:
                    self._finish()
                    raise
                exc, value = self._next_interrupt(), None
                if exc is None:
                    break
        finally:
            self._running = False
        now = self._sched.clock._t
        if cmd.__class__ is Wait:
            self.waiting = True
            t = None if cmd.timeout is None else now + max(cmd.timeout, 0.0)
            self._wake = None if t is None else (t, TIMEOUT)
        else:
            self._wake = (now + max(cmd, 0.0), None)
        self._sleep()
        return True

    def _sleep(self) -> None:
        """Schedule the wake-up the process is waiting for (none: only `resume` wakes it)."""
        self._token += 1
        if self._wake is not None:
            self._sched._push(self._wake[0], self._step, self._token, self._wake[1])

    def kill(self) -> None:
        """Stop a process for good without running any more of it."""
        if not self.done:
            self._gen.close()
            self._finish()

    def _finish(self) -> None:
        self.done = True
        self.waiting = False

    def __repr__(self) -> str:
        state = "done" if self.done else "waiting" if self.waiting else "busy"
        return f"<Process {self.name} {state}>"


class Scheduler:
    """The event heap and the loop that advances the virtual clock.

    `lock` guards every piece of emulator state. The run loop holds it while it handles an event
    and releases it only around HTTP (see `unlocked`); REST handlers take it from their threads.
    """

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._heap: list[tuple[float, int, Callable[[Any, Any], Any], Any, Any]] = []
        self._seq = count()
        self.events_run = 0

    def _push(self, t: float, fn: Callable[[Any, Any], Any], a: Any = None, b: Any = None) -> None:
        heappush(self._heap, (t, next(self._seq), fn, a, b))

    def call_at(self, t: float, fn: Callable[..., None], *args: Any) -> Timer:
        """Run `fn(*args)` at virtual offset `t` (not before now)."""
        timer = Timer(max(t, self.clock._t), fn, args)
        self._push(timer.when, timer._fire)
        return timer

    def call_later(self, delay: float, fn: Callable[..., None], *args: Any) -> Timer:
        return self.call_at(self.clock._t + delay, fn, *args)

    def spawn(self, gen: Step, name: str = "", delay: float = 0.0) -> Process:
        """Start a process `delay` virtual seconds from now."""
        proc = Process(self, gen, name)
        self._push(self.clock._t + delay, proc._step, proc._token, None)
        return proc

    def run(self, until: float | None = None, advance: bool = True) -> int:
        """Handle events in time order up to virtual offset `until` (all of them if None).

        With `until` and `advance`, the clock ends exactly at `until` even if nothing happens
        then. Returns the number of events handled.
        """
        heap, clock, lock = self._heap, self.clock, self.lock
        handled = 0
        while True:
            with lock:
                if not heap or (until is not None and heap[0][0] > until):
                    break
                t, _, fn, a, b = heappop(heap)
                before = clock._t
                if t > before:
                    clock._t = t
                if fn(a, b) is False:  # a stale entry (cancelled timer, superseded step)
                    clock._t = before
                    continue
            handled += 1
        if until is not None and advance:
            with lock:
                if clock._t < until and not (heap and heap[0][0] <= until):
                    clock._move_to(until)
        self.events_run += handled
        return handled

    @contextmanager
    def unlocked(self) -> Iterator[None]:
        """Release the state lock while the caller waits on the network (see the class doc)."""
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()
