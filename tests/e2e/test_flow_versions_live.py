"""Publishing, rolling back and storm messages, heard by emulated callers through the real app.

A call keeps the flow version it started with across a publish; a new call gets the new one,
in any web process (a second app on the same database stands for a second gunicorn worker).
"""

from __future__ import annotations

from ivr.flows import announcements
from ivr.flows.versions import versions_of
from ivr.sim import hangup, press, wait
from tests.e2e.helpers import enqueued
from tests.e2e.helpers import record as sql_record
from tests.ivr.flow_support import MAIN_EN, REPORT_EN, TEXT_311, edited

MAIN_V2 = "Version two main menu: to report a problem, press 1."
REPORT_V2 = "Version two report menu: for a pothole, press 1."
POTHOLE = [press("1"), press("1"), press("1"), wait(30), hangup()]  # English, report, pothole


def publish_v2(center) -> int:  # type: ignore[no-untyped-def]
    versions = versions_of(center.services)
    versions.ensure_shipped()
    text = edited(REPORT_EN, REPORT_V2, edited(MAIN_EN, MAIN_V2))
    saved = versions.save_draft("311", text, versions.draft("311").revision, "sup-ana")
    assert saved.problems == []
    return versions.publish("311", "sup-ana", revision=saved.revision)


def heard(call, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in h for h in call.heard())


def test_a_call_in_progress_keeps_its_version_across_a_publish(center) -> None:  # type: ignore[no-untyped-def]
    early = center.call(POTHOLE)
    for _ in range(120):  # until the early caller is listening to the main menu
        center.sim.advance(1)
        if heard(early, MAIN_EN):
            break
    else:
        raise AssertionError(f"the main menu never played: {early.heard()}")
    assert publish_v2(center) == 2  # a supervisor publishes while the caller is in the menu
    late = center.call(POTHOLE)
    center.run()

    assert not early.application_error and not late.application_error
    assert heard(early, REPORT_EN) and not heard(early, REPORT_V2)  # still version 1
    assert heard(late, MAIN_V2) and heard(late, REPORT_V2) and not heard(late, MAIN_EN)
    assert sql_record(center, early.sid).flow_version == 1
    assert sql_record(center, late.sid).flow_version == 2
    for call in (early, late):  # both reached a call-taker's queue
        assert enqueued(center, call.sid) == ("general", {"line:311", "topic:streets"})


def test_a_publish_in_one_process_is_seen_by_the_next_call_in_another(center_factory) -> None:  # type: ignore[no-untyped-def]
    one, two = center_factory(), center_factory()
    before = two.call(POTHOLE)
    two.run()
    assert heard(before, MAIN_EN)
    assert publish_v2(one) == 2
    after = two.call(POTHOLE)
    two.run()
    assert heard(after, MAIN_V2) and sql_record(two, after.sid).flow_version == 2


def test_rollback_puts_the_earlier_version_back_for_new_calls(center) -> None:  # type: ignore[no-untyped-def]
    publish_v2(center)
    assert versions_of(center.services).rollback("311", "sup-ben") == 1
    call = center.call(POTHOLE)
    center.run()
    assert heard(call, MAIN_EN) and not heard(call, MAIN_V2)
    assert sql_record(center, call.sid).flow_version == 1
    assert versions_of(center.services).text_of("311", "live")[1] == TEXT_311


def test_a_storm_message_is_heard_by_new_calls_until_switched_off(center) -> None:  # type: ignore[no-untyped-def]
    svc = center.services
    board = announcements.of(svc)
    flow, _ = svc.flows.live("311")
    message = {"en": "Because of the storm, trash pickup is cancelled today.",
               "es": "Por la tormenta, hoy no se recoge la basura."}
    board.switch_on("311", flow, message, "sup-ana")
    english, spanish = center.call(POTHOLE), center.call([press("2"), wait(30), hangup()])
    center.run()
    assert heard(english, message["en"]) and not heard(english, message["es"])
    assert heard(spanish, message["es"])
    welcome = english.heard().index(next(h for h in english.heard() if message["en"] in h))
    assert welcome == 2  # right after the language choice (two prompts), before the menu
    board.switch_off("311", "sup-ana")
    quiet = center.call(POTHOLE)
    center.run()
    assert not heard(quiet, message["en"]) and heard(quiet, MAIN_EN)
