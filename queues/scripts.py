"""Loading the Lua scripts shipped in ``queues/scripts/`` (package data).

Each script is sent as the blocks of ``_lib.lua`` it uses (found by name, with the blocks those
use, in library order) followed by its own file, and registered once per client with
`register_script` (redis-py runs it by SHA and reloads it after a server restart). Only the
blocks used are sent because defining a function costs time on every call of a script.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from redis import Redis
from redis.commands.core import Script

NAMES = (
    "push",
    "pop",
    "remove",
    "requeue",
    "callback",
    "complete",
    "position",
    "stats",
    "handle",
    "push_front",
)

_BLOCK = re.compile(r"^-- lib: (\w+)\n", re.MULTILINE)
_NOT_CODE = re.compile(r"--[^\n]*|'[^'\n]*'")


def _read(name: str) -> str:
    return files("queues").joinpath("scripts", f"{name}.lua").read_text(encoding="utf-8")


@cache
def _library() -> dict[str, str]:
    """The blocks of ``_lib.lua`` by name, in file order."""
    parts = _BLOCK.split(_read("_lib"))
    return {parts[i]: parts[i + 1].rstrip() + "\n" for i in range(1, len(parts), 2)}


def _uses(code: str, names: set[str]) -> set[str]:
    words = set(re.findall(r"\b\w+\b", _NOT_CODE.sub("", code)))
    return names & words


@cache
def source(name: str) -> str:
    """The full text sent to Redis for script `name`."""
    library = _library()
    own = _read(name)
    needed: set[str] = set()
    todo = _uses(own, set(library))
    while todo:
        block = todo.pop()
        needed.add(block)
        todo |= _uses(library[block], set(library) - {block}) - needed
    lib = "".join(text for block, text in library.items() if block in needed)
    return f"{lib}\n-- {name}.lua\n{own}"


def register(client: Redis) -> dict[str, Script]:
    """Every script, registered on `client`."""
    return {name: client.register_script(source(name)) for name in NAMES}
