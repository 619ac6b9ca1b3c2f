"""The ``recording:`` and ``quality:`` settings, read once and checked (a wrong value is a
`ValueError` naming it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The kinds of calls that can be reviewed every time (``quality.always``): a transfer by its
# mode (to a dispatch center: warm, cold, menu; a 911 call sent back to 311: reclassify), and
# ``rollover`` (a call rolled to an alternate PSAP: matched by a ``rollover`` call event or
# outcome, which the rollover of issue 19 records).
KINDS = ("transfer:warm", "transfer:cold", "transfer:menu", "transfer:reclassify", "rollover")


@dataclass(frozen=True)
class RecordingConfig:
    lines: frozenset[str]
    channels: int
    retention_days: float

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> RecordingConfig:
        spec = raw.get("recording") or {}
        channels = int(spec.get("channels", 2))
        if channels not in (1, 2):
            raise ValueError("recording.channels must be 1 or 2")
        days = float(spec.get("retention_days", 90))
        if days <= 0:
            raise ValueError("recording.retention_days must be more than 0")
        return cls(frozenset(str(x) for x in spec.get("lines") or ()), channels, days)

    def records(self, line: str | None) -> bool:
        return line is not None and line in self.lines


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    max: int


@dataclass(frozen=True)
class QualityConfig:
    sample_percent: float
    period_days: int
    seed: str
    always: tuple[str, ...]
    questions: tuple[Question, ...]

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> QualityConfig:
        spec = raw.get("quality") or {}
        percent = float(spec.get("sample_percent", 2))
        if not 0 < percent <= 100:
            raise ValueError("quality.sample_percent must be more than 0 and at most 100")
        days = int(spec.get("period_days", 1))
        if days < 1:
            raise ValueError("quality.period_days must be 1 or more")
        always = tuple(str(k) for k in spec.get("always") or ())
        unknown = [k for k in always if k not in KINDS]
        if unknown:
            raise ValueError(f"quality.always: unknown kinds {unknown}; known: {list(KINDS)}")
        questions = tuple(Question(str(q["id"]), str(q["text"]), int(q.get("max", 5)))
                          for q in spec.get("questions") or ())
        if not questions or any(q.max < 1 for q in questions):
            raise ValueError("quality.questions: at least one, each with a max of 1 or more")
        if len({q.id for q in questions}) != len(questions):
            raise ValueError("quality.questions: each id once")
        return cls(percent, days, str(spec.get("seed", "")), always, questions)

    @property
    def max_score(self) -> int:
        return sum(q.max for q in self.questions)
