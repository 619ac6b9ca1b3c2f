"""Loading the Lua scripts shipped in ``agents/scripts/`` (package data).

Each script is the queue scripts it embeds as functions (see `agents.queuing`), then agents'
``_lib.lua``, then its own file; registered once per client with `register_script`
(redis-py runs it by SHA and reloads it after a server restart).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from redis import Redis
from redis.commands.core import Script

from agents.queuing import embedded

# Each script and the queue scripts it runs inside its own atomic step.
EMBEDS: dict[str, tuple[str, ...]] = {
    "transition": (),
    "timers": (),
    "route": ("pop",),
    "accept": ("complete",),
    "release": ("requeue",),
    "gone": ("remove",),
}


@cache
def source(name: str) -> str:
    """The full text sent to Redis for script `name`."""
    folder = files("agents").joinpath("scripts")
    lib = folder.joinpath("_lib.lua").read_text(encoding="utf-8")
    own = folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    queue = "".join(embedded(q) for q in EMBEDS[name])
    # The queue's code comes first: it cannot see (or be shadowed by) the agents helpers.
    return f"{queue}\n-- agents/scripts/_lib.lua\n{lib}\n-- {name}.lua\n{own}"


def register(client: Redis) -> dict[str, Script]:
    """Every script, registered on `client`."""
    return {name: client.register_script(source(name)) for name in EMBEDS}
