"""The webhooks at the HTTP level: signatures, bad input, idempotent status callbacks."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent


def sid() -> str:
    return "CA" + uuid.uuid4().hex


def params(call_sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": "+14105550100",
            "To": "+14435550311", "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
            "Direction": "inbound", **extra}


def verbs(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [child.tag for child in root]


def events(services, call_sid: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        rows = session.scalars(select(CallEvent).where(CallEvent.call_sid == call_sid)
                               .order_by(CallEvent.id))
        return [(e.kind, e.detail) for e in rows]


def test_incoming_answers_the_311_menu_and_records_the_call(signed_post, services) -> None:
    s = sid()
    assert verbs(signed_post("/voice/incoming", params(s))) == ["Gather", "Redirect"]
    with services.sessions() as session:
        call = session.get(Call, s)
        assert call.line == "311" and call.caller == "+14105550100" and call.outcome == "live"
        assert call.flow == "311" and call.flow_version == 1


def test_a_signed_webhook_with_nul_in_its_values_records_the_call(signed_post,
                                                                  services) -> None:
    """PostgreSQL cannot store NUL: the call's insert failed there, so the call went
    unrecorded (SQLite took it). The values are taken without NUL once signed, on both."""
    s = sid()
    answer = signed_post("/voice/incoming", params(s[:6] + "\x00" + s[6:],
                                                   From="+1410555\x000100"))
    assert verbs(answer) == ["Gather", "Redirect"]
    with services.sessions() as session:
        call = session.get(Call, s)
        assert call is not None and call.caller == "+14105550100" and call.outcome == "live"
    steps = len(events(services, s))
    assert verbs(signed_post("/voice/step?event=gather&seq=1&x=%00",
                             params(s + "\x00", Digits="1\x00")))
    assert len(events(services, s)) > steps  # the keys reached the call's record


def test_missing_or_wrong_signature_is_refused_and_touches_nothing(signed_post, services) -> None:
    s = sid()
    assert signed_post("/voice/incoming", params(s), signature="").status_code == 403
    assert signed_post("/voice/incoming", params(s), signature="bm90IGEgc2ln").status_code == 403
    for path in ("/voice/step?event=gather&seq=1", "/voice/status", "/voice/fallback",
                 "/voice/fallback/wait"):
        assert signed_post(path, params(s), signature="x").status_code == 403
    with services.sessions() as session:
        assert session.get(Call, s) is None
    assert services.live.get(s) is None


def test_missing_parameters_still_get_valid_twiml(signed_post) -> None:
    assert "Enqueue" in verbs(signed_post("/voice/incoming", {}))
    # No From, no To: the default line, an anonymous caller.
    s = sid()
    assert verbs(signed_post("/voice/incoming", {"CallSid": s})) == ["Gather", "Redirect"]


def test_unknown_call_sid_on_a_step_starts_the_line_again(signed_post, services) -> None:
    s = sid()
    tags = verbs(signed_post("/voice/step?event=gather&seq=4", params(s, Digits="1")))
    assert tags == ["Gather", "Redirect"]
    assert ("unknown-call", "gather for a call with no live state") in events(services, s)


@pytest.mark.parametrize("digits", ["abc", "99999999999999999999", "*#*#", "", "1' OR 1=1"])
def test_garbage_digits_get_a_retry_not_an_error(signed_post, digits: str) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))
    tags = verbs(signed_post("/voice/step?event=gather&seq=1", params(s, Digits=digits)))
    assert tags[-1] in ("Redirect", "Enqueue")


def test_replayed_gather_gets_the_same_answer_and_advances_once(signed_post, services) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))
    first = signed_post("/voice/step?event=gather&seq=1", params(s, Digits="1"))
    again = signed_post("/voice/step?event=gather&seq=1", params(s, Digits="1"))
    assert first.data == again.data
    assert services.live.get(s).seq == 2


def test_internal_failure_answers_safe_twiml_and_is_recorded(signed_post, services,
                                                             monkeypatch) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("callflows.engine.resume", broken)
    tags = verbs(signed_post("/voice/step?event=gather&seq=1", params(s, Digits="1")))
    assert tags[:2] == ["Say", "Say"] and "Enqueue" in tags
    assert any(kind == "error" and "engine exploded" in detail
               for kind, detail in events(services, s))


def test_redis_down_still_answers(signed_post, services, monkeypatch) -> None:
    import redis

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise redis.ConnectionError("gone")

    monkeypatch.setattr(services.live, "get", down)
    # Held and asked again (tests/ivr/voice/test_outage.py), never an application error.
    assert verbs(signed_post("/voice/incoming", params(sid())))[-1] == "Redirect"


def test_twilio_fallback_url_answers_a_human(signed_post, services) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))
    tags = verbs(signed_post("/voice/fallback", params(s, ErrorCode="11205",
                                                         ErrorUrl="https://x/voice/incoming")))
    assert "Enqueue" in tags
    assert any(k == "error" and "11205" in d for k, d in events(services, s))


def test_status_callbacks_are_idempotent_and_order_free(signed_post, services) -> None:
    s = sid()
    signed_post("/voice/incoming", params(s))
    completed = params(s, CallStatus="completed", SequenceNumber="2", CallDuration="31",
                       CallbackSource="call-progress-events")
    answered = params(s, CallStatus="in-progress", SequenceNumber="1")
    # completed first, then a late in-progress, then completed replayed
    for form in (completed, answered, completed):
        assert signed_post("/voice/status", form).status_code == 204
    with services.sessions() as session:
        call = session.get(Call, s)
        assert call.twilio_status == "completed" and call.duration == 31
        assert call.ended_at is not None
        assert call.outcome == "abandoned"  # hung up in the menu
    statuses = [d for k, d in events(services, s) if k == "status"]
    assert statuses == ["completed", "in-progress"]


def test_status_for_a_call_never_seen_is_still_recorded(signed_post, services) -> None:
    s = sid()
    form = params(s, CallStatus="completed", SequenceNumber="0", CallDuration="2")
    assert signed_post("/voice/status", form).status_code == 204
    with services.sessions() as session:
        call = session.get(Call, s)
        assert call is not None and call.outcome == "abandoned" and call.ended_at is not None


def test_status_with_garbage_fields_answers_204(signed_post) -> None:
    s = sid()
    form = params(s, CallStatus="completed", SequenceNumber="x", CallDuration="y")
    assert signed_post("/voice/status", form).status_code == 204
    assert signed_post("/voice/status", {"CallSid": s}).status_code == 204
