"""A readable diff between two texts of a flow (pure: strings in, values out).

`difflib` does the matching; this module shapes its answer for people: numbered lines marked
added, removed or unchanged, grouped in hunks with a little context, plus the plain unified diff
that the CLI prints and the audit keeps.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

CONTEXT = 3


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed" or "gap" (unchanged lines left out)
    text: str
    old: int | None  # 1-based line in the old text
    new: int | None  # 1-based line in the new text

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class FlowDiff:
    old_label: str
    new_label: str
    lines: tuple[DiffLine, ...]
    unified: str

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "added")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "removed")

    @property
    def same(self) -> bool:
        return not self.added and not self.removed

    def summary(self) -> str:
        if self.same:
            return f"{self.new_label} is the same as {self.old_label}"
        return (f"{self.old_label} -> {self.new_label}: {self.added} line(s) added, "
                f"{self.removed} removed")

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.old_label, "to": self.new_label, "added": self.added,
                "removed": self.removed, "summary": self.summary(),
                "lines": [line.to_dict() for line in self.lines], "unified": self.unified}


def diff(old: str, new: str, old_label: str, new_label: str,
         context: int = CONTEXT) -> FlowDiff:
    """What changed from `old` to `new`, with `context` unchanged lines around each change."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        first = group[0]
        if lines or first[1] > 0 or first[3] > 0:
            lines.append(DiffLine("gap", f"@@ line {first[3] + 1} @@", first[1] + 1, first[3] + 1))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine("same", a[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2)]
                continue
            if tag in ("replace", "delete"):
                lines += [DiffLine("removed", a[i], i + 1, None) for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                lines += [DiffLine("added", b[j], None, j + 1) for j in range(j1, j2)]
    unified = "\n".join(difflib.unified_diff(a, b, old_label, new_label, n=context,
                                             lineterm=""))
    return FlowDiff(old_label, new_label, tuple(lines), unified)
