"""Webhooks during an outage: a caller is held and the webhook asked again; an event that
cannot be asked again is journaled and applied, at the time it arrived, once the stores are
back; a replayed queue result changes nothing."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import redis
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.calls.repairs import Repair
from ivr.voice import outage
from tests.ivr.voice.test_caller_routes import events, params, sid, verbs


def root(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ElementTree.fromstring(response.data)


def redirect_path(response) -> str:  # type: ignore[no-untyped-def]
    target = root(response).find("Redirect").text
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def action_path(response) -> str:  # type: ignore[no-untyped-def]
    gather = root(response).find("Gather")
    parts = urlsplit(gather.get("action"))
    return parts.path + "?" + parts.query


class Outage:
    """Makes the live-call store fail with ConnectionError while `down` is set."""

    def __init__(self, services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.down = True
        real_get = services.live.get

        def get(sid_: str):  # type: ignore[no-untyped-def]
            if self.down:
                raise redis.ConnectionError("Connection refused")
            return real_get(sid_)

        monkeypatch.setattr(services.live, "get", get)


@pytest.fixture
def journal_dir(services):  # type: ignore[no-untyped-def]
    return services.settings.data_dir / "journal"  # each test's own data directory


def test_a_caller_is_held_and_asked_again_until_the_store_is_back(
        signed_post, services, monkeypatch) -> None:
    s = sid()
    store = Outage(services, monkeypatch)
    first = signed_post("/voice/incoming", params(s))
    assert verbs(first) == ["Say", "Say", "Pause", "Redirect"]
    retry = redirect_path(first)
    assert retry.startswith("/voice/retry?") and parse_qs(urlsplit(retry).query)["n"] == ["1"]
    with services.sessions() as session:
        assert session.get(Call, s) is None  # nothing half-done
    again = signed_post(retry, params(s))
    assert verbs(again) == ["Pause", "Redirect"]  # no second apology, still holding
    assert parse_qs(urlsplit(redirect_path(again)).query)["n"] == ["2"]
    store.down = False
    menu = signed_post(redirect_path(again), params(s))
    assert verbs(menu) == ["Gather", "Redirect"]
    with services.sessions() as session:
        assert session.get(Call, s).outcome == "live"


def test_the_keys_a_caller_pressed_survive_the_retry(signed_post, services, monkeypatch) -> None:
    s = sid()
    step = action_path(signed_post("/voice/incoming", params(s)))
    store = Outage(services, monkeypatch)
    held = signed_post(step, params(s, Digits="2"))  # Spanish
    assert verbs(held)[-1] == "Redirect"
    store.down = False
    # Twilio's redirect carries only the call's standard parameters: no Digits.
    answered = signed_post(redirect_path(held), params(s))
    assert b'language="es' in answered.data
    assert "language" in [kind for kind, _ in events(services, s)]


def test_after_hold_seconds_the_caller_gets_the_safe_answer(
        signed_post, services, monkeypatch) -> None:
    services.settings.raw["outage"] = {"hold_seconds": 0}
    Outage(services, monkeypatch)
    tags = verbs(signed_post("/voice/incoming", params(sid())))
    assert "Enqueue" in tags  # a human, through the safe queue the reconciler serves


def test_a_retry_cannot_be_pointed_at_anything_but_a_webhook(signed_post) -> None:
    for target in ("/api/v1/me", "/voice/retry", "/nowhere", "/healthz"):
        tags = verbs(signed_post(f"/voice/retry?to={target}&n=1", params(sid())))
        assert "Enqueue" in tags  # refused: the safe answer, nothing run


def test_a_status_callback_during_an_outage_is_journaled_then_applied_at_its_time(
        app, signed_post, services, monkeypatch, journal_dir) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))
    store = Outage(services, monkeypatch)
    arrived = services.clock()
    completed = params(s, CallStatus="completed", SequenceNumber="3", CallDuration="42")
    assert signed_post("/voice/status", completed).status_code == 204
    lines = [json.loads(x) for f in journal_dir.glob("*.jsonl") for x in f.read_text().split("\n")
             if x]
    assert [(e["path"], e["form"]["CallStatus"]) for e in lines] == [("/voice/status",
                                                                       "completed")]
    assert outage.replay(app) == 0  # the store is still down: nothing applied, nothing lost
    store.down = False
    assert outage.replay(app) == 1
    with services.sessions() as session:
        call = session.get(Call, s)
        assert call.twilio_status == "completed" and call.duration == 42
        assert call.ended_at == arrived  # when Twilio said it, not when it was applied
        kinds = session.scalars(select(Repair.kind).where(Repair.call_sid == s)).all()
        assert kinds == ["journal"]
    assert not outage.journal(services.settings).pending()
    assert outage.replay(app) == 0  # applied once


def test_a_journaled_event_that_cannot_be_applied_is_set_aside_and_recorded(
        app, signed_post, services, monkeypatch, journal_dir) -> None:
    s = sid()
    store = Outage(services, monkeypatch)
    signed_post("/voice/status", params(s, CallStatus="completed", SequenceNumber="1"))
    store.down = False

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ValueError("a record that makes no sense")

    monkeypatch.setattr("ivr.voice.status._apply", broken)
    assert outage.replay(app) == 0
    with services.sessions() as session:
        rows = session.scalars(select(Repair).where(Repair.call_sid == s)).all()
        assert [r.kind for r in rows] == ["journal-set-aside"]
    aside = (journal_dir / "set-aside.jsonl").read_text()
    assert s in aside and "makes no sense" in aside
    assert not outage.journal(services.settings).pending()


def _queued_call(signed_post) -> str:  # type: ignore[no-untyped-def]
    s = sid()
    response = signed_post("/voice/incoming", params(s))
    for digits in ("1", "0", "0", "0"):
        if b"<Enqueue" in response.data:
            break
        response = signed_post(action_path(response), params(s, Digits=digits))
    assert b"<Enqueue" in response.data, response.data
    return s


def test_a_replayed_queue_result_writes_abandoned_once(signed_post, services) -> None:
    s = _queued_call(signed_post)
    hangup = params(s, QueueResult="hangup", QueueTime="12", CallStatus="completed")
    for _ in range(3):
        assert root(signed_post("/voice/queue/result", hangup)).tag == "Response"
    with services.sessions() as session:
        kinds = session.scalars(select(CallEvent.kind).where(CallEvent.call_sid == s)).all()
    assert kinds.count("abandoned") == 1


def test_a_queue_result_after_the_call_ended_is_journaled_during_an_outage(
        app, signed_post, services, monkeypatch, journal_dir) -> None:
    s = _queued_call(signed_post)
    store = Outage(services, monkeypatch)
    hangup = params(s, QueueResult="hangup", QueueTime="12", CallStatus="completed")
    assert verbs(signed_post("/voice/queue/result", hangup)) == []
    store.down = False
    assert outage.replay(app) == 1
    assert [kind for kind, _ in events(services, s)].count("abandoned") == 1
    assert services.queues.position(s, services.clock().timestamp()) is None  # out of line
