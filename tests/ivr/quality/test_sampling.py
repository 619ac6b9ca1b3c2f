"""The review sample (ANS 1.107.1): at least the asked share of each call-taker's calls, drawn
the same way for the same seed, plus every call of the chosen kinds."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from ivr.quality.sampling import Handled, draw, period_start, required

DAY = date(2026, 12, 7)


def _calls(counts: dict[str, int], kinds: dict[str, frozenset[str]] | None = None):  # type: ignore[no-untyped-def]
    kinds = kinds or {}
    return [Handled(f"CA{agent}{i:05d}", agent, kinds.get(f"CA{agent}{i:05d}", frozenset()))
            for agent, n in counts.items() for i in range(n)]


def test_required_is_the_share_rounded_up_and_one_at_least() -> None:
    assert [required(n, 2) for n in (0, 1, 49, 50, 51, 100, 101, 250)] == [
        0, 1, 1, 1, 2, 2, 3, 5]
    assert required(10, 100) == 10


@given(st.dictionaries(st.sampled_from(["ann", "bob", "cy", "dee"]),
                       st.integers(min_value=0, max_value=400), max_size=4),
       st.floats(min_value=0.5, max_value=50), st.text(max_size=8))
def test_each_call_taker_gets_at_least_the_share_of_their_own_calls(counts, percent, seed) -> None:  # type: ignore[no-untyped-def]
    calls = _calls(counts)
    picks, shares = draw(calls, percent, seed, DAY, ())
    for agent, n in counts.items():
        if not n:
            continue
        share = shares[agent]
        assert share.calls == n
        assert len(share.sampled) == share.required >= max(1, math.ceil(n * percent / 100 - 1e-9))
        assert len(share.sampled) >= n * percent / 100
        assert all(sid.startswith(f"CA{agent}") for sid in share.sampled)  # their own calls
        assert len(set(share.sampled)) == len(share.sampled)
    assert {p.sid for p in picks} == {s for sh in shares.values() for s in sh.sampled}


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    calls = _calls({"ann": 300, "bob": 300})
    first, _ = draw(calls, 2, "s1", DAY, ())
    again, _ = draw(list(reversed(calls)), 2, "s1", DAY, ())
    other, _ = draw(calls, 2, "s2", DAY, ())
    assert sorted(p.sid for p in first) == sorted(p.sid for p in again)
    assert sorted(p.sid for p in first) != sorted(p.sid for p in other)
    next_day, _ = draw(calls, 2, "s1", date(2026, 12, 8), ())
    assert sorted(p.sid for p in first) != sorted(p.sid for p in next_day)


def test_one_call_takers_sample_does_not_move_when_anothers_calls_change() -> None:
    _, before = draw(_calls({"ann": 200, "bob": 100}), 2, "s", DAY, ())
    _, after = draw(_calls({"ann": 200, "bob": 180}), 2, "s", DAY, ())
    assert before["ann"].sampled == after["ann"].sampled


def test_every_call_of_a_chosen_kind_is_added_with_its_reason() -> None:
    kinds = {"CAann00007": frozenset({"transfer:warm"}), "CAbob00003": frozenset({"rollover"}),
             "CAbob00004": frozenset({"transfer:reclassify"}),
             "CA00001": frozenset({"transfer:menu"})}
    calls = _calls({"ann": 100, "bob": 100}, kinds) + [
        Handled("CA00001", "", frozenset({"transfer:menu"}))]
    picks, shares = draw(calls, 2, "s", DAY, ("transfer:warm", "transfer:menu", "rollover"))
    reasons = {p.sid: p.reasons for p in picks}
    assert "transfer:warm" in reasons["CAann00007"]
    assert "rollover" in reasons["CAbob00003"]
    assert "CAbob00004" not in reasons or reasons["CAbob00004"] == ("sample",)
    assert reasons["CA00001"] == ("transfer:menu",)  # a flow's own transfer, no call-taker
    assert shares[""].calls == 0 and shares[""].kinds == ["CA00001"]
    assert shares["ann"].picked == len(set(shares["ann"].sampled) | {"CAann00007"})


def test_periods_are_aligned_runs_of_days() -> None:
    assert period_start(DAY, 1) == DAY
    assert period_start(date(2026, 12, 10), 7) == DAY  # Monday to Sunday
    assert period_start(date(2026, 12, 13), 7) == DAY
    assert period_start(date(2026, 12, 14), 7) == date(2026, 12, 14)
