"""The floor's pages and API over HTTP, on an emulated day: supervisors only, the wallboard,
its live stream, the reports (JSON, CSV) and /metrics agree, and errors are precise."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.e2e.test_floor_figures import busy_day
from tests.ivr.console_support import Desk, add_account

# One sample line of Prometheus' text format: name{labels} value
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
                    r'(-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$')


@pytest.fixture
def day(center_factory):  # type: ignore[no-untyped-def]
    center, start, _placed, _quitter = busy_day(center_factory)
    return center, start


def desk(center, roles: tuple[str, ...]) -> Desk:  # type: ignore[no-untyped-def]
    login = add_account(center.services, roles=roles)
    return Desk(center.app.test_client(), login)


def test_the_wallboard_the_reports_and_the_csv_agree(day) -> None:  # type: ignore[no-untyped-def]
    center, start = day
    boss = desk(center, ("supervisor",))
    board = boss.get("/wallboard").get_json()
    report = boss.get("/reports/day").get_json()  # today, on the center's clock
    assert report["day"] == board["day"] == start.date().isoformat()
    for c in board["classes"]:
        mine = report["classes"][c["queue_class"]]
        assert {k: c[k] for k in mine} == mine
    assert report["classes"]["emergency"]["answered"] == 3
    assert [s["label"] for s in report["classes"]["emergency"]["service_levels"]] == [
        "90% in 15 s", "95% in 20 s"]

    rows = list(csv.DictReader(io.StringIO(
        boss.get(f"/reports/classes.csv?day={report['day']}").get_data(as_text=True))))
    assert {r["queue_class"]: int(r["answered"]) for r in rows} == {
        name: f["answered"] for name, f in report["classes"].items()}
    agents = list(csv.DictReader(io.StringIO(
        boss.get(f"/reports/agents.csv?day={report['day']}").get_data(as_text=True))))
    assert {r["agent"] for r in agents} == {"carol", "dave"}
    intervals = boss.get(f"/reports/intervals.csv?day={report['day']}")
    assert intervals.mimetype == "text/csv"
    assert sum(int(r["offered"]) for r in csv.DictReader(io.StringIO(
        intervals.get_data(as_text=True)))) == 8

    text = boss.client.get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line
    answered = report["classes"]["general"]["answered"]
    assert f'ivr_calls_answered_today{{queue_class="general"}} {answered}' in text
    for kind, n in board["repairs"]["by_kind"].items():  # the wallboard's repairs, the same
        assert f'ivr_repairs_today{{kind="{kind}"}} {n}' in text

    page = boss.client.get(f"/console/reports?day={report['day']}").get_data(as_text=True)
    assert page.count("<svg") == 2 and "carol" in page
    assert boss.client.get("/console/wallboard").status_code == 200


def test_the_wallboard_is_pushed_live(day) -> None:  # type: ignore[no-untyped-def]
    center, _start = day
    boss = desk(center, ("supervisor",))
    response = boss.client.get("/api/v1/wallboard/events")
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)

    def next_board() -> tuple[str, dict]:
        seen = ""
        for chunk in chunks:
            seen += chunk.decode() if isinstance(chunk, bytes) else chunk
            if "event: wallboard" in seen and seen.endswith("\n\n"):
                data = seen.split("event: wallboard\ndata: ", 1)[1].strip()
                return seen, json.loads(data)
        raise AssertionError("the stream ended")

    seen, first = next_board()
    assert "retry: 2000" in seen and '"chart_svg":' in seen
    available = {c["queue_class"]: c["agents"]["available"] for c in first["classes"]}
    center.services.agents.login("erin", ["line:311", "line:911"],
                                 center.services.clock().timestamp())
    _seen, second = next_board()
    response.close()
    assert {c["queue_class"]: c["agents"]["available"] for c in second["classes"]} == {
        name: n + 1 for name, n in available.items()}


def test_only_supervisors_and_admins_see_the_floor(day) -> None:  # type: ignore[no-untyped-def]
    center, _start = day
    taker = desk(center, ("call-taker",))
    for path in ("/wallboard", "/wallboard/events", "/reports/day", "/reports/classes.csv",
                 "/staffing?calls=1&interval=60&aht=60&target=20&agents=2"):
        r = taker.get(path)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden", path
    for path in ("/console/wallboard", "/console/reports", "/console/staffing"):
        assert taker.client.get(path).status_code == 403
    assert taker.client.get("/metrics").status_code == 403
    anonymous = center.app.test_client()
    assert anonymous.get("/api/v1/wallboard").status_code == 401
    assert anonymous.get("/metrics").status_code == 401
    assert anonymous.get("/console/reports").status_code == 302  # to the sign-in form
    admin = desk(center, ("admin",))
    assert admin.get("/wallboard").status_code == 200


def test_metrics_take_a_bearer_token(day, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    center, _start = day
    center.app.config["IVR_METRICS_TOKEN"] = "scrape-me-0123456789"
    client = center.app.test_client()
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith(
        "text/plain; version=0.0.4")
    assert "# TYPE ivr_calls_waiting gauge" in ok.get_data(as_text=True)
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_staffing_api_page_and_precise_errors(day) -> None:  # type: ignore[no-untyped-def]
    center, start = day
    boss = desk(center, ("supervisor",))
    ok = boss.get("/staffing?calls=360&interval=1800&aht=240&target=20&agents=55").get_json()
    assert ok["erlangs"] == 48 and abs(ok["service_level"] - 0.8668) < 5e-4
    assert boss.get("/staffing?calls=360&interval=1800&aht=240&target=20&goal=80") \
        .get_json()["agents"] == 54
    for query, code in [("calls=360&interval=1800&aht=240&target=20", "agents_or_goal"),
                        ("interval=1800&aht=240&target=20&agents=5", "missing_parameter"),
                        ("calls=x&interval=1800&aht=240&target=20&agents=5", "bad_parameter"),
                        ("calls=1&interval=0&aht=240&target=20&agents=5", "bad_parameter"),
                        ("calls=1&interval=60&aht=240&target=20&agents=2.5", "bad_parameter"),
                        ("calls=1&interval=60&aht=240&target=20&goal=100", "bad_parameter")]:
        r = boss.get(f"/staffing?{query}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == code, query
    assert boss.get("/reports/day?day=2026-13-01").get_json()["error"]["code"] == "bad_day"
    page = boss.client.get("/console/staffing?calls=360&interval=1800&aht=240&target=20"
                           "&agents=55").get_data(as_text=True)
    assert "Erlang C knows no priorities" in page and "48.00 Erlangs" in page
    assert "86.7%" in page
    measured = re.search(r'<table class="figures" id="measured">(.*?)</table>', page, re.S)
    assert measured and "emergency" in measured.group(1) and "general" in measured.group(1)


def test_the_staffing_page_sets_erlang_c_beside_the_measured_day(day) -> None:  # type: ignore[no-untyped-def]
    center, start = day
    boss = desk(center, ("supervisor",))
    page = boss.client.get("/console/staffing").get_data(as_text=True)
    beside = re.search(r'<table class="figures" id="beside">(.*?)</table>', page, re.S)
    assert beside is not None
    rows = re.findall(r'<th scope="row">(\w+)</th>\s*<td>([0-9.]+)</td><td>([0-9.]+)</td>',
                      beside.group(1))
    # carol takes both lines, dave 311 only: on duty about 1 for 911, about 2 for 311
    on_duty = {name: float(n) for name, n, _erlangs in rows}
    assert set(on_duty) == {"emergency", "general"}
    assert 0.8 <= on_duty["emergency"] <= 1.01 and 1.0 <= on_duty["general"] <= 2.01
