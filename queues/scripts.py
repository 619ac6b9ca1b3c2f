"""Loading the Lua scripts shipped in ``queues/scripts/`` (package data).

Each script is sent as the blocks of ``_lib.lua`` it uses (a block is used when the code names
one of the locals it defines; with the blocks those use, in library order) followed by its own
file, and registered once per client with
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
# The operations a `Batch` may hold, run inside the ``batch`` script (which names them by their
# place here, from 1).
BATCHED = ("push", "push_front", "pop", "remove", "requeue", "callback", "position")
OP_CODES = {name: i for i, name in enumerate(BATCHED, start=1)}

_BLOCK = re.compile(r"^-- lib: (\w+)\n", re.MULTILINE)
_NOT_CODE = re.compile(r"--[^\n]*|'[^'\n]*'")
# What a block defines: its top-level locals (``local function f`` or ``local A, B = ...``).
_DEFINES = re.compile(r"^local (?:function )?([\w, ]+)", re.MULTILINE)


def _read(name: str) -> str:
    return files("queues").joinpath("scripts", f"{name}.lua").read_text(encoding="utf-8")


@cache
def _library() -> dict[str, str]:
    """The blocks of ``_lib.lua`` by name, in file order."""
    parts = _BLOCK.split(_read("_lib"))
    return {parts[i]: parts[i + 1].rstrip() + "\n" for i in range(1, len(parts), 2)}


@cache
def _definers() -> dict[str, str]:
    """Each name a library block defines, with the block that defines it."""
    out = {}
    for block, text in _library().items():
        for names in _DEFINES.findall(text):
            for name in names.split(","):
                out[name.strip()] = block
    return out


def _uses(code: str) -> set[str]:
    """The library blocks whose names `code` mentions."""
    definers = _definers()
    words = set(re.findall(r"\b\w+\b", _NOT_CODE.sub("", code)))
    return {definers[w] for w in words if w in definers}


def _with_library(code: str) -> str:
    """The library blocks `code` uses (and the blocks those use), in library order."""
    library = _library()
    needed: set[str] = set()
    todo = _uses(code)
    while todo:
        block = todo.pop()
        needed.add(block)
        todo |= _uses(library[block]) - needed - {block}
    return "".join(text for block, text in library.items() if block in needed)


@cache
def source(name: str) -> str:
    """The full text sent to Redis for script `name`."""
    own = _read(name)
    return f"{_with_library(own)}\n-- {name}.lua\n{own}"


@cache
def batch_source() -> str:
    """The ``batch`` script: each batched operation's script as a local function of (KEYS,
    ARGV) (its KEYS and ARGV then are the operation's own), the list OPS of them in the order
    of `BATCHED`, then the dispatcher. The library is defined once per chunk instead of once
    per operation."""
    ops = {name: _read(name) for name in BATCHED}
    functions = "".join(
        f"\n-- {name}.lua\nlocal function {name}(KEYS, ARGV)\n{code}\nend\n"
        for name, code in ops.items()
    )
    table = "local OPS = {" + ", ".join(ops) + "}\n"
    lib = _with_library("\n".join(ops.values()))
    return f"{lib}{functions}{table}\n-- batch.lua\n{_read('batch')}"


def register(client: Redis) -> dict[str, Script]:
    """Every script, registered on `client` (``batch`` included)."""
    scripts = {name: client.register_script(source(name)) for name in NAMES}
    scripts["batch"] = client.register_script(batch_source())
    return scripts
