"""Who hears whom in a conference (a supervisor listening, coaching, barging in), as Twilio's
Participants resource describes it: a muted participant is heard by nobody, a coach
(`CallSidToCoach`) only by the participant coached, everyone else by all; a change of coaching
is a ``participant-modify`` event. Parameters the emulator does not model are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import ACCOUNT, CALLER, NUMBER, TOKEN, App, make_sim, twiml
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.sim import Caller, Emulator, answers
from ivr.telephony.rest import client_for

AGENT = "client:alice"
SUPERVISOR = "client:sam"


@pytest.fixture
def served(app: App) -> Iterator[tuple[Emulator, Client]]:
    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        r.dial().conference("room", start_conference_on_enter=True, status_callback="/conf",
                            status_callback_event="start end join leave mute modify")
        return twiml(r)

    @app.post("/conf")
    def conf():
        return "", 204

    sim = make_sim(app)
    base = sim.serve_rest()
    yield sim, client_for(base, ACCOUNT, TOKEN)
    sim.stop_rest()


def _room(sim: Emulator, client: Client):  # type: ignore[no-untyped-def]
    """A caller and a call-taker (added by REST) talking in the conference "room"."""
    sim.on_dial(AGENT, answers(after=2))
    sim.on_dial(SUPERVISOR, answers(after=2))
    caller = sim.place_call(Caller(CALLER, NUMBER, hangup_after=900))
    sim.advance(3)
    [conf] = client.conferences.list(friendly_name="room", status="in-progress")
    agent = client.conferences(conf.sid).participants.create(from_=NUMBER, to=AGENT)
    sim.advance(3)
    return caller.sid, agent.call_sid, conf.sid


def _events(app: App) -> list[tuple[str, str, str, str]]:
    return [(r.params["StatusCallbackEvent"], r.params.get("CallSid", ""),
             r.params.get("Coaching", ""), r.params.get("CallSidToCoach", ""))
            for r in app.hits("/conf")]


def _hearing(sim: Emulator, conf_sid: str, sids: dict[str, str]) -> set[tuple[str, str]]:
    """(listener, speaker) pairs, by name, of everyone who hears someone now."""
    conf = sim.conferences.by_sid[conf_sid]
    return {(a, b) for a, x in sids.items() for b, y in sids.items() if conf.hears(x, y)}


EVERYONE = {("caller", "agent"), ("agent", "caller"), ("sup", "caller"), ("sup", "agent"),
            ("caller", "sup"), ("agent", "sup")}


def test_listen_coach_barge_and_leave(served, app: App) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    caller, agent, conf = _room(sim, client)
    sup = client.conferences(conf).participants.create(
        from_=NUMBER, to=SUPERVISOR, muted=True, beep="false", early_media=False,
        start_conference_on_enter=False, end_conference_on_exit=False)
    sim.advance(3)
    who = {"caller": caller, "agent": agent, "sup": sup.call_sid}
    # listen: the supervisor hears both, nobody hears the supervisor
    assert _hearing(sim, conf, who) == EVERYONE - {("caller", "sup"), ("agent", "sup")}
    assert sim.conferences.by_sid[conf].audience(sup.call_sid) == set()

    coached = client.conferences(conf).participants(sup.call_sid).update(
        muted=False, coaching=True, call_sid_to_coach=agent)
    assert (coached.coaching, coached.call_sid_to_coach) == (True, agent)
    # coach: only the call-taker hears the supervisor; the supervisor still hears both
    assert _hearing(sim, conf, who) == EVERYONE - {("caller", "sup")}
    sim.advance(1)
    assert ("participant-modify", sup.call_sid, "true", agent) in _events(app)
    assert ("participant-unmute", sup.call_sid, "true", agent) in _events(app)

    barged = client.conferences(conf).participants(sup.call_sid).update(coaching=False)
    assert (barged.coaching, barged.call_sid_to_coach, barged.muted) == (False, None, False)
    assert _hearing(sim, conf, who) == EVERYONE  # barge: everyone hears everyone
    sim.advance(1)
    assert _events(app)[-1] == ("participant-modify", sup.call_sid, "false", "")

    client.conferences(conf).participants(sup.call_sid).update(muted=True)  # back to listening
    assert _hearing(sim, conf, who) == EVERYONE - {("caller", "sup"), ("agent", "sup")}

    client.conferences(conf).participants(sup.call_sid).delete()  # leave
    sim.advance(1)
    assert _hearing(sim, conf, who) == {("caller", "agent"), ("agent", "caller")}
    assert sim.calls[sup.call_sid].status == "completed"
    assert all(r.signed for r in app.received)


def test_a_coach_added_coaching_and_hold_silences_both_ways(served) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    caller, agent, conf = _room(sim, client)
    sup = client.conferences(conf).participants.create(
        from_=NUMBER, to=SUPERVISOR, call_sid_to_coach=agent)  # CallSidToCoach implies coaching
    assert sup.coaching is True
    sim.advance(3)
    room = sim.conferences.by_sid[conf]
    assert room.audience(sup.call_sid) == {agent}
    assert room.audience(caller) == {agent, sup.call_sid}
    client.conferences(conf).participants(caller).update(hold=True)
    assert room.audience(caller) == set() and not room.hears(caller, agent)
    assert room.audience(agent) == {sup.call_sid}


@pytest.mark.parametrize(("params", "says"), [
    ({"announce_url": "https://ivr.example.org/a"}, "AnnounceUrl not emulated"),
    ({"coaching": True}, "Coaching=true needs CallSidToCoach"),
    ({"call_sid_to_coach": "CA" + "0" * 32}, "not another participant"),
])
def test_updates_it_does_not_model_are_refused(served, params, says) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    _caller, agent, conf = _room(sim, client)
    with pytest.raises(TwilioRestException) as refused:
        client.conferences(conf).participants(agent).update(**params)
    assert refused.value.status == 400 and says in refused.value.msg


@pytest.mark.parametrize(("params", "says"), [
    ({"beep": "true"}, "Beep=true not emulated"),
    ({"early_media": True}, "EarlyMedia=true not emulated"),
    ({"record": True}, "Record not emulated"),
    ({"call_sid_to_coach": "CA" + "0" * 32}, "is not in this conference"),
])
def test_adds_it_does_not_model_are_refused(served, params, says) -> None:  # type: ignore[no-untyped-def]
    sim, client = served
    _caller, _agent, conf = _room(sim, client)
    with pytest.raises(TwilioRestException) as refused:
        client.conferences(conf).participants.create(from_=NUMBER, to=SUPERVISOR, **params)
    assert refused.value.status == 400 and says in refused.value.msg
