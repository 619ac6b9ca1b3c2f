"""The rooms of `ivr/` and the one direction of their imports (README, "Layout").

Every module of `ivr` belongs to a room: the first name under `ivr` (a subpackage), or the
composition root for the modules directly in `ivr/`. A room imports only itself and the rooms
below it; no room imports another room's private names; an import inside a function names its
reason in a comment. The imports are read from the source (module level, inside functions and
under ``TYPE_CHECKING`` alike), so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

IVR = Path(__file__).resolve().parents[2] / "ivr"

# Top to bottom; rooms on one level are siblings and must not import each other.
LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"cli"}),
    frozenset({"demo"}),
    frozenset({"root", "migrations"}),
    frozenset({"web"}),
    frozenset({"voice"}),
    frozenset({"transfers"}),
    frozenset({"connect"}),
    frozenset({"flows", "service_requests", "floor", "accounts", "quality"}),
    frozenset({"services"}),
    frozenset({"calls", "telephony"}),
    frozenset({"platform"}),
    frozenset({"sim"}),  # the emulator: a lower package that happens to live in ivr/
)
ROOT_MODULES = frozenset({"__init__", "app", "bootstrap", "serve", "worker"})
MAX_ROOT_MODULES = 12
LEVEL = {room: i for i, rooms in enumerate(LEVELS) for room in rooms}


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def room_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in ROOT_MODULES):
        return "root"
    return parts[1]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def check(sources: Mapping[str, tuple[str, bool]]) -> list[Finding]:
    """The findings over `sources`: module name -> (its text, whether it is a package)."""
    found: list[Finding] = []
    for module, (text, is_package) in sorted(sources.items()):
        tree = ast.parse(text)
        lines = text.splitlines()
        mine = room_of(module)
        if mine not in LEVEL:
            found.append(Finding(module, 1, f"room {mine!r} is not in LEVELS"))
            continue
        inside: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                inside.update(id(n) for n in ast.walk(fn) if n is not fn)
        modules_named: dict[str, str] = {}  # local name -> module it names (for x._private)
        for node in ast.walk(tree):
            targets: list[tuple[str, str | None]] = []  # (module, imported name or None)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.append((alias.name, None))
                    if alias.asname:
                        modules_named[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in sources:  # `from ivr.room import module`
                        targets.append((full, None))
                        modules_named[alias.asname or alias.name] = full
                    else:
                        targets.append((base, alias.name))
            else:
                continue
            for target, name in targets:
                if target != "ivr" and not target.startswith("ivr."):
                    continue
                theirs = room_of(target)
                if theirs == mine:
                    pass
                elif theirs not in LEVEL:
                    found.append(Finding(module, node.lineno, f"imports {target}, in no room"))
                elif LEVEL[theirs] <= LEVEL[mine]:
                    how = "sideways" if LEVEL[theirs] == LEVEL[mine] else "upward"
                    found.append(Finding(module, node.lineno,
                                         f"{how} import: {mine} -> {theirs} ({target})"))
                elif name is not None and name.startswith("_"):
                    found.append(Finding(module, node.lineno,
                                         f"private name {name} of {target} ({theirs})"))
                if id(node) in inside and not _says_why(lines, node):
                    found.append(Finding(module, node.lineno,
                                         f"import of {target} inside a function, with no "
                                         "comment saying why"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in modules_named):
                target = modules_named[node.value.id]
                if room_of(target) != mine:
                    found.append(Finding(module, node.lineno,
                                         f"private name {node.attr} of {target}"))
    return found


def _says_why(lines: list[str], node: ast.stmt) -> bool:
    here = lines[node.lineno - 1]
    above = lines[node.lineno - 2] if node.lineno >= 2 else ""
    return "#" in here or above.strip().startswith("#")


def package_sources(folder: Path = IVR) -> dict[str, tuple[str, bool]]:
    out = {}
    for path in folder.rglob("*.py"):
        rel = path.relative_to(folder.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path.read_text("utf-8"), is_package)
    return out


def root_modules(folder: Path = IVR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py"))


def test_every_import_of_ivr_goes_down_the_rooms_and_names_no_private_name() -> None:
    findings = check(package_sources())
    assert not findings, "\n".join(map(str, findings))


def test_the_root_of_ivr_holds_only_the_composition_root() -> None:
    here = root_modules()
    assert len(here) <= MAX_ROOT_MODULES, here
    assert set(here) <= ROOT_MODULES, f"modules directly in ivr/ outside the root: {here}"


def test_every_folder_of_ivr_with_code_is_a_room() -> None:
    rooms = {p.name for p in IVR.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert rooms <= set(LEVEL), rooms - set(LEVEL)


def _fake(**modules: str) -> dict[str, tuple[str, bool]]:
    return {name: (text, False) for name, text in modules.items()}


@pytest.mark.parametrize(("sources", "says"), [
    (_fake(**{"ivr.calls.a": "from ivr.voice.b import x\n", "ivr.voice.b": "x = 1\n"}),
     "upward import: calls -> voice"),
    (_fake(**{"ivr.calls.a": "def f():\n    from ivr.voice import b  # lazy\n",
              "ivr.voice.b": ""}), "upward import: calls -> voice"),
    (_fake(**{"ivr.floor.a": "from ivr.flows.b import x\n", "ivr.flows.b": "x = 1\n"}),
     "sideways import: floor -> flows"),
    (_fake(**{"ivr.voice.a": "from ivr.calls.b import _x\n", "ivr.calls.b": "_x = 1\n"}),
     "private name _x of ivr.calls.b"),
    (_fake(**{"ivr.voice.a": "from ivr.calls import b\nb._x()\n", "ivr.calls.b": ""}),
     "private name _x of ivr.calls.b"),
    (_fake(**{"ivr.voice.a": "def f():\n    from ivr.calls import b\n", "ivr.calls.b": ""}),
     "inside a function, with no comment"),
    (_fake(**{"ivr.voice.a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    from ivr.web.b import x\n", "ivr.web.b": "x = 1\n"}),
     "upward import: voice -> web"),
])
def test_the_checker_catches_each_kind_of_fault(sources: dict[str, tuple[str, bool]],
                                                says: str) -> None:
    findings = [str(f) for f in check(sources)]
    assert any(says in f for f in findings), findings


def test_the_checker_lets_a_downward_import_and_a_commented_lazy_one_pass() -> None:
    sources = _fake(**{
        "ivr.voice.a": "from ivr.calls.b import x\n"
                       "def f():\n    # heavy: only this command needs it\n"
                       "    from ivr.platform import c\n",
        "ivr.calls.b": "x = 1\n", "ivr.platform.c": "",
    })
    assert check(sources) == []


def _listed(text: Iterable[str]) -> str:
    return "\n".join(text)


def test_the_levels_are_those_the_readme_draws() -> None:
    readme = (IVR.parent / "README.md").read_text("utf-8")
    drawn = re.search(r"Direction: (.+?)\n\n", readme, re.S)
    assert drawn, "README.md: no 'Direction:' line under Layout"
    steps = [frozenset(r.strip() for r in step.replace("\n", " ").split(","))
             for step in drawn.group(1).rstrip(".").split("->")]
    assert tuple(steps) == LEVELS, _listed(map(str, steps))
