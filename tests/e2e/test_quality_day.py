"""Quality review over a simulated day (`ivr demo`'s day, through the real app): each
call-taker's random sample is at least 2 % of the calls they took, every warm transfer to 911
dispatch is in the review list, the sample is the same when drawn again, and the results come
out per call-taker in the CSV of the reports."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import date

from sqlalchemy import select

from ivr.demo.day import DemoCenter, DemoOptions, day_start, quality_line, run_day
from ivr.demo.dayplan import DayOptions
from ivr.demo.floor import HandleTimes
from ivr.quality import review
from ivr.quality.config import QualityConfig
from ivr.transfers.records import TransferRow
from tests.ivr.console_support import Desk, add_account

QA_DAY = date(2027, 1, 11)  # a Monday no other test uses: the sample reads the whole day


def test_a_days_sample_holds_two_percent_per_call_taker_and_every_transfer(settings) -> None:  # type: ignore[no-untyped-def]
    options = DemoOptions(
        day=DayOptions(calls=240, start_hour=9, end_hour=13, emergency_share=0.3,
                       patience_311=900.0, patience_911=900.0),
        agents=4, handle=HandleTimes(median=60.0), date=QA_DAY, seed=11,
        transfer_share=0.05)
    with DemoCenter(settings, day_start(settings, options), options.seed) as center:
        result = run_day(center, options)
        svc = center.services
        config = QualityConfig.from_raw(svc.settings.raw)
        assert config.sample_percent == 2 and "transfer:warm" in config.always
        found = review.period(svc.engine, config, QA_DAY, svc.settings.timezone)

        # who took how many calls, from the records (a "bridged" event names the call-taker)
        with svc.engine.connect() as conn:
            handled = review.handled_calls(conn, result.start, result.end)
            transferred = set(conn.execute(select(TransferRow.call_sid)).scalars()) & {
                c.sid for c in handled}
        taken = Counter(c.agent for c in handled if c.agent)
        assert len(taken) == 4 and sum(taken.values()) >= 150, taken
        for agent, n in taken.items():
            share = found.shares[agent]
            assert share.calls == n
            assert len(share.sampled) == math.ceil(n * 0.02) >= n * 0.02, (agent, n)
        picked = {p.sid: p for p in found.picks}
        assert transferred and result.transfers.get("started", 0) >= len(transferred) > 0
        for sid in transferred:  # every warm transfer to dispatch, whoever took it
            assert "transfer:warm" in picked[sid].reasons
        line = quality_line(svc, QA_DAY)  # what `ivr demo` prints
        assert f"random sample {sum(len(found.shares[a].sampled) for a in taken)} of " \
            f"{sum(taken.values())} calls" in line
        assert f"every transfer:warm: {len(transferred)}" in line
        # drawn again, the same sample
        again = review.period(svc.engine, config, QA_DAY, svc.settings.timezone)
        assert [p.sid for p in again.picks] == [p.sid for p in found.picks]

        # a review through the API, then the results per call-taker in the CSV
        boss = Desk(center.app.test_client(), add_account(svc, roles=("supervisor",)))
        first = found.picks[0]
        scores = {q.id: q.max for q in config.questions}
        scores[config.questions[0].id] = 0
        made = boss.post("/quality/reviews", {"call": first.sid, "scores": scores,
                                              "comment": "missed the greeting"})
        assert made.status_code == 201, made.get_json()
        assert boss.post("/quality/reviews", {"call": first.sid, "scores": scores}) \
            .status_code == 409
        outside = next(c.sid for c in handled if c.sid not in picked)
        refused = boss.post("/quality/reviews", {"call": outside, "scores": scores})
        assert refused.status_code == 409 and \
            refused.get_json()["error"]["code"] == "not_sampled"
        bad = boss.post("/quality/reviews", {"call": found.picks[1].sid,
                                             "scores": {**scores, "greeting": 99}})
        assert bad.status_code == 400
        got = boss.client.get(f"/api/v1/reports/quality.csv?day={QA_DAY.isoformat()}")
        assert got.status_code == 200 and got.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
        by_agent = {r["agent"]: r for r in rows}
        for agent, n in taken.items():
            assert int(by_agent[agent]["calls"]) == n
            assert int(by_agent[agent]["sampled"]) >= n * 0.02
        expected = round(100 * (config.max_score - config.questions[0].max)
                         / config.max_score, 1)
        row = by_agent[first.agent]
        assert row["reviewed"] == "1" and float(row["average_score"]) == expected
        assert all(r["period"] == QA_DAY.isoformat() for r in rows)
