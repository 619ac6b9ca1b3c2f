"""A short demo day through the real app: 311 and 911 callers shaped by the day profile,
impatient callers, scripted call-takers; every call ends in a final state and the audit finds
nothing."""

from __future__ import annotations

import dataclasses
from datetime import date

from click.testing import CliRunner

from ivr.cli.main import main
from ivr.demo.day import (
    DemoCenter,
    DemoOptions,
    day_start,
    outcome_counts,
    run_day,
    unfinished_calls,
)
from ivr.demo.dayplan import DayOptions
from ivr.demo.floor import HandleTimes
from ivr.floor import reports
from ivr.floor.audit import audit_services

# Days no other test uses: the audit reads every record of its span.
MONDAY = date(2026, 12, 7)
TRANSFER_DAY = date(2026, 12, 21)


def test_a_short_day_ends_with_every_call_final_and_no_violation(settings) -> None:  # type: ignore[no-untyped-def]
    options = DemoOptions(
        day=DayOptions(calls=30, start_hour=10, end_hour=11, emergency_share=0.3,
                       patience_311=40.0, patience_911=120.0),
        agents=3, handle=HandleTimes(median=90.0), date=MONDAY, seed=3, transfer_share=0.0)
    started: list[tuple[str, str]] = []
    with DemoCenter(settings, day_start(settings, options), options.seed) as center:
        result = run_day(center, options, on_call_started=lambda agent, call, now:
                         started.append((agent, call)))
        svc = center.services
        assert result.calls and all(c.ended for c in result.calls)
        assert not [c.sid for c in result.calls if c.application_error]
        sids = [c.sid for c in result.calls]
        assert unfinished_calls(svc, sids) == []
        counts = outcome_counts(svc, sids)
        assert sum(counts.values()) == len(result.calls)
        # Three call-takers and impatient callers: some are answered, some give up in line.
        assert counts.get(("311", "answered"), 0) > 0
        assert counts.get(("911", "answered"), 0) > 0
        abandoned = sum(n for (_line, outcome), n in counts.items() if outcome == "abandoned")
        assert abandoned == result.patience_hangups > 0
        answered = sum(n for (_l, o), n in counts.items() if o == "answered")
        assert result.floor.accepted == answered
        # The seam a scripted transfer plugs into (issue 5) sees every connected call once.
        assert len(started) == len(set(started)) == answered
        assert audit_services(svc, result.start, result.end) == []


def test_call_takers_warm_transfer_some_311_calls_to_dispatch(settings) -> None:  # type: ignore[no-untyped-def]
    options = DemoOptions(
        day=DayOptions(calls=24, start_hour=10, end_hour=11, emergency_share=0.0,
                       patience_311=600.0),
        agents=4, emergency_only=0.0, both_lines=0.0, handle=HandleTimes(median=150.0),
        date=TRANSFER_DAY, seed=5, transfer_share=0.5)
    with DemoCenter(settings, day_start(settings, options), options.seed) as center:
        result = run_day(center, options)
        svc = center.services
        sids = [c.sid for c in result.calls]
        assert unfinished_calls(svc, sids) == []
        counts = outcome_counts(svc, sids)
        completed = result.transfers.get("completed", 0)
        assert result.transfers.get("started", 0) >= completed > 0, result.transfers
        # a completed warm transfer is a call that ended transferred, recorded as such
        assert counts.get(("311", "transferred"), 0) >= completed
        with svc.engine.connect() as conn:
            calls = reports.load_calls(conn, result.start, result.end)
        figures = reports.by_class(calls)
        assert figures["general"].transfers == counts.get(("311", "transferred"), 0)
        assert audit_services(svc, result.start, result.end) == []


def test_ivr_demo_prints_the_day_saves_a_chart_and_audits(settings, tmp_path,  # type: ignore[no-untyped-def]
                                                         monkeypatch) -> None:
    monkeypatch.setattr("ivr.platform.config.load_settings", lambda *a, **k: dataclasses.replace(
        settings, raw={**settings.raw}))
    chart = tmp_path / "day.png"
    result = CliRunner().invoke(main, [
        "demo", "--calls", "15", "--hours", "9-10", "--agents", "2", "--date", "2026-12-14",
        "--data-dir", str(tmp_path / "var"), "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "emergency (911)" in result.output and "general (311)" in result.output
    assert "audit: 0 violation(s)" in result.output
    assert "quality review: " in result.output and "2 % of each call-taker's" in result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
