"""The readable diff of two flow texts (ivr/flows/diff.py)."""

from __future__ import annotations

from ivr.flows.diff import diff


def test_changes_come_with_their_line_numbers_and_some_context() -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 5\n", "line five\n").replace("line 18\n", "")
    found = diff(old, new, "version 1", "draft", context=1)
    kinds = [(d.kind, d.text, d.old, d.new) for d in found.lines]
    assert kinds == [
        ("gap", "@@ line 4 @@", 4, 4),
        ("same", "line 4", 4, 4), ("removed", "line 5", 5, None), ("added", "line five", None, 5),
        ("same", "line 6", 6, 6),
        ("gap", "@@ line 17 @@", 17, 17),
        ("same", "line 17", 17, 17), ("removed", "line 18", 18, None), ("same", "line 19", 19, 18),
    ]
    assert (found.added, found.removed) == (1, 2)
    assert found.summary() == "version 1 -> draft: 1 line(s) added, 2 removed"
    assert found.unified.startswith("--- version 1\n+++ draft\n@@ -4,3 +4,3 @@")


def test_the_same_text_has_no_changes() -> None:
    same = diff("a\nb\n", "a\nb\n", "version 2", "draft")
    assert same.same and same.lines == () and same.unified == ""
    assert same.summary() == "draft is the same as version 2"
