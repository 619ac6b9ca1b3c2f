"""`ivr demo --realtime` on a running `ivr serve --emulate`: the shift's callers, at the pace of
the wall clock, dialing the running center through its emulated carrier.

The day is planned as `ivr demo` plans it (the Baltimore 311 profile, storms, the 911 share);
each caller presses the keys of their topic and gives up after their patience in line. Nobody
simulates the call-takers: the people signed in to the console take the calls, and the
wallboard shows the floor. Ctrl-C stops placing calls (those placed go on).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ivr.demo import dayprofile
from ivr.demo.carrierlink import CarrierClient
from ivr.demo.day import DemoOptions
from ivr.demo.dayplan import keys_for, plan

PROGRESS_EVERY = 15.0  # seconds of wall clock between progress lines


def place_shift(client: CarrierClient, options: DemoOptions, write: Callable[[str], None],
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Place the shift's calls as their times come; returns the CallSids placed."""
    rng = random.Random(options.seed)
    arrivals = plan(dayprofile.load(), options.day, rng)
    write(f"{len(arrivals)} calls over {options.day.seconds / 3600:.0f} h, placed on the "
          "running center's emulated carrier as their times come: take them in the console, "
          "watch the wallboard. Ctrl-C stops placing calls.")
    start, shown, placed = clock(), clock(), []
    try:
        for i, arrival in enumerate(arrivals):
            due = start + arrival.at
            while clock() < due:
                sleep(min(due - clock(), 1.0))
            made = client.request("POST", "/calls", {
                "line": arrival.line, "from": f"+1410{5550000 + i % 10000:07d}",
                "keys": "".join(keys_for(arrival)), "patience": round(arrival.patience, 1)})
            placed.append(str(made["call"]))
            if clock() - shown >= PROGRESS_EVERY:
                shown = clock()
                write(f"  {len(placed)}/{len(arrivals)} calls placed")
    except KeyboardInterrupt:
        write("stopped placing calls")
    write(f"{len(placed)} calls placed")
    return placed
