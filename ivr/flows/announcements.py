"""A line's storm or closure message, switched on and off in one step, without editing YAML.

The flows read it as the var `announcement` (311.yaml speaks it in a `prompt` with
``when_var: announcement`` right after the language choice). The message lives in SQL, one row
per line, so every web process sees it at its next call; each change is audited. A line whose
live flow never reads the var is refused: a switch that would do nothing must not look on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select
from sqlalchemy.orm import Session, sessionmaker

from callflows.model import Flow
from ivr.flows.records import LineAnnouncement
from ivr.flows.versions import add_audit
from ivr.platform.clock import Clock
from ivr.platform.db import reading, transaction
from ivr.services import Services

VAR = "announcement"
MAX_CHARS = 1000


# Built once: every new call reads it.
_TEXT = select(LineAnnouncement.text).where(
    LineAnnouncement.center == bindparam("center"), LineAnnouncement.line == bindparam("line"))


class AnnouncementRefused(ValueError):
    """The message or the line was refused; `str()` says why."""


@dataclass(frozen=True)
class Announcement:
    line: str
    text: dict[str, str]
    set_at: datetime
    set_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "on": True, "text": self.text,
                "set_at": self.set_at.isoformat(), "set_by": self.set_by}


def reads_announcement(flow: Flow) -> bool:
    """Whether some node of `flow` speaks the var (a prompt with ``when_var: announcement``)."""
    return any(getattr(node, "when_var", None) == VAR for node in flow.nodes.values())


def clean_text(text: Mapping[str, object], languages: Mapping[str, str]) -> dict[str, str]:
    """The message per language key of the flow; every language must have its text."""
    cleaned = {str(k): " ".join(str(v).split()) for k, v in text.items()
               if isinstance(v, str) and v.strip()}
    unknown = sorted(set(cleaned) - set(languages))
    if unknown:
        raise AnnouncementRefused(f"the line's flow has no language {', '.join(unknown)} "
                                  f"(it has {', '.join(languages)})")
    missing = [lang for lang in languages if lang not in cleaned]
    if missing:
        raise AnnouncementRefused("give the message in every language of the line's flow: "
                                  f"{', '.join(missing)} is missing")
    long = [lang for lang, value in cleaned.items() if len(value) > MAX_CHARS]
    if long:
        raise AnnouncementRefused(f"the {', '.join(long)} message is longer than {MAX_CHARS} "
                                  "characters")
    return cleaned


class Announcements:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session], center: str,
                 clock: Clock) -> None:
        self.engine = engine
        self.sessions = sessions
        self.center = center
        self.clock = clock

    def call_vars(self, line: str) -> dict[str, Any]:
        """The vars a new call on `line` starts with: the message, when one is on."""
        with reading(self.engine) as conn:
            text = conn.scalar(_TEXT, {"center": self.center, "line": line})
        return {VAR: text} if text else {}

    def current(self) -> dict[str, Announcement]:
        with self.sessions() as session:
            rows = session.scalars(select(LineAnnouncement).where(
                LineAnnouncement.center == self.center))
            return {r.line: Announcement(r.line, dict(r.text), r.set_at, r.set_by) for r in rows}

    def switch_on(self, line: str, flow: Flow, text: Mapping[str, object],
                  actor: str) -> Announcement:
        if not reads_announcement(flow):
            raise AnnouncementRefused(
                f"line {line}'s flow '{flow.name}' never speaks an announcement: add a prompt "
                f"with when_var: {VAR} to it first")
        cleaned = clean_text(text, flow.languages)
        now = self.clock()
        with transaction(self.sessions) as session:
            found = session.get(LineAnnouncement, (self.center, line))
            if found is None:
                session.add(LineAnnouncement(center=self.center, line=line, text=cleaned,
                                             set_at=now, set_by=actor[:64]))
            else:
                found.text, found.set_at, found.set_by = cleaned, now, actor[:64]
            add_audit(session, self.center, f"line:{line}", now, actor, "announcement-on",
                      " / ".join(f"{k}: {v}" for k, v in cleaned.items()), {"text": cleaned})
        return Announcement(line, cleaned, now, actor)

    def switch_off(self, line: str, actor: str) -> bool:
        """Switch the message off; False when none was on."""
        now = self.clock()
        with transaction(self.sessions) as session:
            gone = session.execute(delete(LineAnnouncement).where(
                LineAnnouncement.center == self.center, LineAnnouncement.line == line)).rowcount
            if gone:
                add_audit(session, self.center, f"line:{line}", now, actor, "announcement-off")
        return bool(gone)


def of(svc: Services) -> Announcements:
    return Announcements(svc.engine, svc.sessions, svc.settings.center, svc.clock)


def call_vars(svc: Services, line: str) -> dict[str, Any]:
    """The announcement var of a new call on `line` (empty when no message is on)."""
    return of(svc).call_vars(line)
