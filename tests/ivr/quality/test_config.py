"""The recording and quality settings: defaults, and a sentence for each wrong value."""

from __future__ import annotations

import pytest

from ivr.platform.config import default_tree
from ivr.quality.config import KINDS, QualityConfig, RecordingConfig


def test_the_defaults_record_both_lines_and_sample_two_percent_a_day() -> None:
    rec = RecordingConfig.from_raw(default_tree())
    assert rec.records("911") and rec.records("311") and not rec.records(None)
    assert rec.channels == 2 and rec.retention_days == 90
    q = QualityConfig.from_raw(default_tree())
    assert q.sample_percent == 2 and q.period_days == 1
    assert set(q.always) <= set(KINDS) and "rollover" in q.always
    assert q.max_score == 25


@pytest.mark.parametrize(("section", "value", "message"), [
    ("recording", {"channels": 3}, "recording.channels"),
    ("recording", {"retention_days": 0}, "recording.retention_days"),
    ("quality", {"sample_percent": 0}, "quality.sample_percent"),
    ("quality", {"period_days": 0}, "quality.period_days"),
    ("quality", {"always": ["transfers"]}, "unknown kinds ['transfers']"),
    ("quality", {"questions": []}, "quality.questions"),
    ("quality", {"questions": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]},
     "each id once"),
])
def test_a_wrong_value_is_named(section: str, value: dict, message: str) -> None:  # type: ignore[type-arg]
    raw = default_tree()
    raw[section] = {**raw[section], **value}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        (RecordingConfig if section == "recording" else QualityConfig).from_raw(raw)
