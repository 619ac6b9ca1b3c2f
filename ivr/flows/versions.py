"""Versions of call flows in SQL: drafts, publishing, rollback, history and audit.

The rules a supervisor can rely on:

- A flow has one draft. A save names the draft revision it started from; when someone saved in
  between, the save is refused (`DraftConflict`), never silently merged or lost.
- Every save stores the text, broken or not (work is never lost), and answers with every problem
  the static check finds. Publishing refuses a draft with problems (`FlowRefused`).
- Published versions are numbered 1, 2, ... and never change. Publishing and rollback move the
  flow's live pointer in one transaction; a call keeps the version it started on
  (`ivr.flows.live.SqlFlowStore` serves every version ever published).
- Every change, and every refused attempt, is written to the audit with who and when; a change
  of text keeps its diff.
- The flows shipped in ``ivr/flows/`` are imported as version 1 the first time a center starts.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callflows.errors import FlowError
from callflows.model import Flow
from callflows.parse import parse_flow
from ivr.flows.diff import FlowDiff, diff
from ivr.flows.records import FlowAudit, FlowRecord, FlowVersion
from ivr.flows.store import shipped_flows
from ivr.platform.clock import Clock
from ivr.platform.db import transaction
from ivr.services import Services

log = logging.getLogger("ivr.flows")

MAX_TEXT = 200_000  # characters: a flow is a few hundred lines; this stops a runaway paste


class FlowMissing(LookupError):
    """No such flow or version; `str()` says which."""


class DraftConflict(Exception):
    """The draft changed since the revision the save or publish started from."""

    def __init__(self, name: str, expected: int, current: int, saved_by: str,
                 saved_at: datetime) -> None:
        self.current = current
        self.saved_by = saved_by
        self.saved_at = saved_at
        super().__init__(
            f"the draft of flow '{name}' was saved by {saved_by} at "
            f"{saved_at:%Y-%m-%d %H:%M:%S} UTC (revision {current}) after you opened revision "
            f"{expected}; your text was not saved. Copy your changes, reload the draft and apply "
            "them again.")


class FlowRefused(Exception):
    """The flow cannot be published or made live: `errors` says why, line by line."""

    def __init__(self, message: str, errors: list[FlowError] | None = None) -> None:
        self.errors = errors or []
        super().__init__(message)


@dataclass(frozen=True)
class Draft:
    name: str
    text: str
    revision: int
    saved_at: datetime
    saved_by: str
    live_version: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.name, "text": self.text, "revision": self.revision,
                "saved_at": self.saved_at.isoformat(), "saved_by": self.saved_by,
                "live_version": self.live_version}


@dataclass(frozen=True)
class Published:
    version: int
    published_at: datetime
    published_by: str
    note: str
    live: bool

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "published_at": self.published_at.isoformat(),
                "published_by": self.published_by, "note": self.note, "live": self.live}


@dataclass(frozen=True)
class Saved:
    revision: int
    problems: list[FlowError]
    unchanged: bool = False  # the text was the draft already: no revision, no audit


def filename_of(name: str) -> str:
    """The file name problems are reported against (the shipped files' own names)."""
    return f"{name}.yaml"


def check_text(name: str, text: str) -> tuple[Flow | None, list[FlowError]]:
    """Parse and statically check `text` as flow `name`: (flow, []) or (None, every problem).

    Besides the language's own checks, the flow must keep its name: lines find a flow by it.
    """
    flow, errors = parse_flow(text, filename_of(name))
    if flow is not None and flow.name != name:
        errors = [FlowError(filename_of(name), flow.lines.get("flow", 1),
                            f"the flow is named '{flow.name}' but this is flow '{name}': lines "
                            f"find their flow by name, so keep flow: \"{name}\"")]
        flow = None
    return flow, errors


def add_audit(session: Session, center: str, subject: str, at: datetime, actor: str, action: str,
              detail: str = "", data: Mapping[str, Any] | None = None) -> None:
    session.add(FlowAudit(center=center, subject=subject, at=at, actor=actor[:64],
                          action=action, detail=detail, data=dict(data) if data else None))


class FlowVersions:
    """The flows of one center in SQL (see the module docstring for the rules)."""

    def __init__(self, sessions: sessionmaker[Session], center: str, clock: Clock,
                 shipped: Callable[[], dict[str, str]] = shipped_flows) -> None:
        self.sessions = sessions
        self.center = center
        self.clock = clock
        self.shipped = shipped

    # -- reading -------------------------------------------------------------------------------

    def ensure_shipped(self) -> list[str]:
        """Import each shipped flow this center does not have yet as its live version 1.

        Safe when several processes start at once: the unique (center, name) decides which
        import lands; the others find it done. Returns the names imported by this call.
        """
        imported = []
        have = set(self.names())
        for filename, text in self.shipped().items():
            flow = _shipped_flow(filename, text)
            if flow.name in have:
                continue
            try:
                with transaction(self.sessions) as session:
                    self._create(session, flow.name, text, "system", live=True,
                                 note=f"shipped {filename}")
                    add_audit(session, self.center, f"flow:{flow.name}", self.clock(), "system",
                              "import", f"shipped {filename} imported as version 1",
                              {"version": 1})
                imported.append(flow.name)
            except IntegrityError:
                log.info("flow %s was imported by another process", flow.name)
        return imported

    def names(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(FlowRecord.name).where(
                FlowRecord.center == self.center).order_by(FlowRecord.name)))

    def _record(self, session: Session, name: str) -> FlowRecord:
        found = session.scalar(select(FlowRecord).where(FlowRecord.center == self.center,
                                                        FlowRecord.name == name))
        if found is None:
            raise FlowMissing(f"there is no flow '{name}'")
        return found

    def draft(self, name: str) -> Draft:
        with self.sessions() as session:
            rec = self._record(session, name)
            return Draft(rec.name, rec.draft, rec.draft_revision, rec.draft_saved_at,
                         rec.draft_saved_by, rec.live_version)

    def versions(self, name: str) -> list[Published]:
        """Every published version, newest first."""
        with self.sessions() as session:
            live = self._record(session, name).live_version
            rows = session.scalars(select(FlowVersion).where(
                FlowVersion.center == self.center, FlowVersion.name == name,
            ).order_by(FlowVersion.version.desc()))
            return [Published(r.version, r.published_at, r.published_by, r.note,
                              r.version == live) for r in rows]

    def text_of(self, name: str, which: str | int) -> tuple[str, str]:
        """(label, text) of ``"draft"``, ``"live"`` or a version number."""
        with self.sessions() as session:
            rec = self._record(session, name)
            if which == "draft":
                return f"draft (revision {rec.draft_revision})", rec.draft
            if which == "live":
                if rec.live_version is None:
                    raise FlowMissing(f"flow '{name}' has no live version yet")
                which = rec.live_version
            try:
                number = int(which)
            except ValueError:
                raise FlowMissing(f"'{which}' is not a version: give a number, 'live' or "
                                  "'draft'") from None
            text = session.scalar(select(FlowVersion.text).where(
                FlowVersion.center == self.center, FlowVersion.name == name,
                FlowVersion.version == number))
            if text is None:
                raise FlowMissing(f"flow '{name}' has no version {number}")
            live = " (live)" if number == rec.live_version else ""
            return f"version {number}{live}", text

    def diff(self, name: str, old: str | int, new: str | int) -> FlowDiff:
        """A readable diff between any two of: a version number, ``live``, ``draft``."""
        old_label, old_text = self.text_of(name, old)
        new_label, new_text = self.text_of(name, new)
        return diff(old_text, new_text, old_label, new_label)

    def audit(self, subject: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The newest audit entries first, of one subject (``flow:311``, ``line:311``) or all."""
        query = select(FlowAudit).where(FlowAudit.center == self.center)
        if subject:
            query = query.where(FlowAudit.subject == subject)
        with self.sessions() as session:
            rows = session.scalars(query.order_by(FlowAudit.id.desc()).limit(limit))
            return [{"id": r.id, "subject": r.subject, "at": r.at.isoformat(), "actor": r.actor,
                     "action": r.action, "detail": r.detail, "data": r.data or {}}
                    for r in rows]

    # -- changing ------------------------------------------------------------------------------

    def create(self, name: str, text: str, actor: str) -> Saved:
        """A new flow with `text` as its draft (nothing live until it is published)."""
        _, problems = check_text(name, text)
        try:
            with transaction(self.sessions) as session:
                self._create(session, name, text, actor, live=False)
                add_audit(session, self.center, f"flow:{name}", self.clock(), actor, "create",
                          f"new flow with {len(problems)} problem(s)", {"revision": 1})
        except IntegrityError:
            raise DraftConflict(name, 0, self.draft(name).revision, "someone",
                                self.clock()) from None
        return Saved(1, problems)

    def _create(self, session: Session, name: str, text: str, actor: str, live: bool,
                note: str = "") -> None:
        now = self.clock()
        session.add(FlowRecord(center=self.center, name=name, draft=text, draft_revision=1,
                               draft_saved_at=now, draft_saved_by=actor,
                               live_version=1 if live else None))
        if live:
            session.add(FlowVersion(center=self.center, name=name, version=1, text=text,
                                    published_at=now, published_by=actor, note=note))
        session.flush()

    def save_draft(self, name: str, text: str, revision: int, actor: str) -> Saved:
        """Store `text` as the draft if it is still at `revision`; answers its problems. The
        same text as the draft at `revision` is no change: no new revision, nothing audited."""
        if len(text) > MAX_TEXT:
            raise FlowRefused(f"the flow is {len(text)} characters long; the limit is {MAX_TEXT}")
        _, problems = check_text(name, text)
        now = self.clock()
        with transaction(self.sessions) as session:
            before = self._record(session, name)
            old_text = before.draft
            if old_text == text and before.draft_revision == revision:
                return Saved(revision, problems, unchanged=True)
            done = session.execute(
                update(FlowRecord)
                .where(FlowRecord.id == before.id, FlowRecord.draft_revision == revision)
                .values(draft=text, draft_revision=FlowRecord.draft_revision + 1,
                        draft_saved_at=now, draft_saved_by=actor[:64])
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != 1:
                session.expire(before)
                conflict = DraftConflict(name, revision, before.draft_revision,
                                         before.draft_saved_by, before.draft_saved_at)
            else:
                conflict = None
                changes = diff(old_text, text, f"revision {revision}", f"revision {revision + 1}")
                add_audit(session, self.center, f"flow:{name}", now, actor, "save",
                          f"{changes.summary()}; {len(problems)} problem(s)",
                          {"revision": revision + 1, "problems": len(problems),
                           "diff": changes.unified})
        if conflict is not None:
            self._refused(name, actor, "save-conflict", str(conflict),
                          {"expected": revision, "current": conflict.current})
            raise conflict
        return Saved(revision + 1, problems)

    def publish(self, name: str, actor: str, revision: int | None = None, note: str = "") -> int:
        """Make the draft (at `revision`, when given) the next version and put it live.

        Refuses a draft that fails the check, one that changed since `revision`, and one that is
        the same as the live version. Returns the new version's number.
        """
        now = self.clock()
        with transaction(self.sessions) as session:
            rec = self._record(session, name)
            if revision is not None and rec.draft_revision != revision:
                conflict = DraftConflict(name, revision, rec.draft_revision, rec.draft_saved_by,
                                         rec.draft_saved_at)
            else:
                conflict = None
            text, live, rec_revision = rec.draft, rec.live_version, rec.draft_revision
        if conflict is not None:
            self._refused(name, actor, "publish-refused", str(conflict))
            raise conflict
        _, errors = check_text(name, text)
        if errors:
            self._refused(name, actor, "publish-refused",
                          f"the draft has {len(errors)} problem(s)",
                          {"problems": [str(e) for e in errors]})
            raise FlowRefused(f"flow '{name}' was not published: the draft has {len(errors)} "
                              "problem(s); fix them and publish again", errors)
        old_label, old_text = self.text_of(name, "live") if live else ("nothing", "")
        if live is not None and old_text == text:
            self._refused(name, actor, "publish-refused", f"same as live version {live}")
            raise FlowRefused(f"the draft is the same as live version {live}: nothing to "
                              "publish")
        try:
            with transaction(self.sessions) as session:
                number = (session.scalar(select(func.max(FlowVersion.version)).where(
                    FlowVersion.center == self.center, FlowVersion.name == name)) or 0) + 1
                session.add(FlowVersion(center=self.center, name=name, version=number, text=text,
                                        published_at=now, published_by=actor[:64],
                                        note=note[:500]))
                # Compare-and-set: only if the draft and the live pointer are still what this
                # publish read (a second publish of the same draft, or a rollback, lands first).
                same_live = FlowRecord.live_version.is_(None) if live is None \
                    else FlowRecord.live_version == live
                moved = session.execute(
                    update(FlowRecord)
                    .where(FlowRecord.center == self.center, FlowRecord.name == name,
                           FlowRecord.draft_revision == rec_revision, same_live)
                    .values(live_version=number)
                    .execution_options(synchronize_session=False)).rowcount
                if moved != 1:
                    raise _Raced()
                changes = diff(old_text, text, old_label, f"version {number}")
                add_audit(session, self.center, f"flow:{name}", now, actor, "publish",
                          f"version {number} is live (was {live or 'none'}); "
                          f"{changes.summary()}" + (f"; note: {note}" if note else ""),
                          {"version": number, "previous": live, "note": note,
                           "diff": changes.unified})
        except (IntegrityError, OperationalError, _Raced):
            self._refused(name, actor, "publish-refused", "another change landed at once")
            raise FlowRefused(f"flow '{name}' changed while publishing (another save or "
                              "publish landed at the same moment); reload and try again") from None
        log.info("%s published flow %s version %d", actor, name, number)
        return number

    def rollback(self, name: str, actor: str, to: int | None = None) -> int:
        """Make an earlier published version live again (the one before the live one, unless
        `to` names another). The draft is left as it is. Returns the version now live."""
        with self.sessions() as session:
            live = self._record(session, name).live_version
            numbers = list(session.scalars(select(FlowVersion.version).where(
                FlowVersion.center == self.center, FlowVersion.name == name)))
        if to is None:
            earlier = [n for n in numbers if live is not None and n < live]
            if not earlier:
                self._refused(name, actor, "rollback-refused", "no earlier version")
                raise FlowRefused(f"flow '{name}' has no version before {live} to roll back to")
            to = max(earlier)
        if to not in numbers:
            raise FlowMissing(f"flow '{name}' has no version {to}")
        if to == live:
            self._refused(name, actor, "rollback-refused", f"version {to} is already live")
            raise FlowRefused(f"version {to} of flow '{name}' is already live")
        _, text = self.text_of(name, to)
        _, errors = check_text(name, text)
        if errors:  # the language may have changed since it was published
            self._refused(name, actor, "rollback-refused", f"version {to} no longer loads",
                          {"problems": [str(e) for e in errors]})
            raise FlowRefused(f"version {to} of flow '{name}' no longer passes the check",
                              errors)
        now = self.clock()
        with transaction(self.sessions) as session:
            moved = session.execute(
                update(FlowRecord)
                .where(FlowRecord.center == self.center, FlowRecord.name == name,
                       FlowRecord.live_version == live)
                .values(live_version=to).execution_options(synchronize_session=False)).rowcount
            if moved == 1:
                add_audit(session, self.center, f"flow:{name}", now, actor, "rollback",
                          f"version {to} is live again (was {live})",
                          {"version": to, "previous": live})
        if moved != 1:
            raise FlowRefused(f"flow '{name}' changed while rolling back; reload and try again")
        log.info("%s rolled flow %s back to version %d", actor, name, to)
        return to

    def refused(self, subject: str, actor: str, action: str, reason: str) -> None:
        """Audit an attempt refused before it reached the flow (a role check)."""
        log.warning("refused %s on %s by %s: %s", action, subject, actor, reason)
        with transaction(self.sessions) as session:
            add_audit(session, self.center, subject, self.clock(), actor, "refused",
                      f"{action}: {reason}")

    def _refused(self, name: str, actor: str, action: str, reason: str,
                 data: Mapping[str, Any] | None = None) -> None:
        log.info("%s by %s on flow %s refused: %s", action, actor, name, reason)
        with transaction(self.sessions) as session:
            add_audit(session, self.center, f"flow:{name}", self.clock(), actor, action, reason,
                      data)


@functools.lru_cache(maxsize=16)
def _shipped_flow(filename: str, text: str) -> Flow:
    """A shipped flow, parsed once per process (every API request makes sure they are in)."""
    flow, errors = parse_flow(text, filename)
    if flow is None:
        raise RuntimeError(f"the shipped flow {filename} does not load: {errors[0]}")
    return flow


class _Raced(Exception):
    """The draft or live pointer moved between reading and writing."""


def versions_of(svc: Services) -> FlowVersions:
    """The flow versions of the center `svc` serves, on its clock."""
    return FlowVersions(svc.sessions, svc.settings.center, svc.clock)
