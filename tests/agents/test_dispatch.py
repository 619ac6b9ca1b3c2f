"""The service layer: state first, then the phone network, through the `Telephony` seam."""

from __future__ import annotations

import pytest

from agents import Dispatcher, State, Telephony, TelephonyError, TransitionRefused
from tests.agents.conftest import T0, Floor
from tests.agents.fakes import RecordingTelephony

EN_311 = ["line:311", "lang:en"]


def test_the_fake_meets_the_protocol() -> None:
    assert isinstance(RecordingTelephony(), Telephony)


def test_accept_bridges_the_caller(floor: Floor) -> None:
    phone = RecordingTelephony()
    dispatcher = Dispatcher(floor.router, phone)
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    [r] = floor.router.route(T0)
    dispatcher.accept(r.reservation_id, T0 + 2, agent_id="ana")
    assert phone.calls == [("bridge", "c1")]
    assert floor.state("ana") == "on_call"
    p = dispatcher.hang_up("ana", T0 + 60)
    assert p.state == State.WRAP_UP
    assert phone.calls[-1] == ("hangup", "c1")
    with pytest.raises(TransitionRefused, match="there is no call to end"):
        dispatcher.hang_up("ana", T0 + 61)


def test_accept_of_a_callback_dials_the_resident(floor: Floor) -> None:
    phone = RecordingTelephony()
    floor.push("c1", "311", ["line:311"], T0)
    floor.queues.mark_callback("c1")
    floor.agents.login("ana", EN_311, T0 + 5)
    [r] = floor.router.route(T0 + 5)
    Dispatcher(floor.router, phone).accept(r.reservation_id, T0 + 6)
    assert phone.calls == [("call_back", "c1")]


def test_a_failed_bridge_ends_the_call(floor: Floor) -> None:
    phone = RecordingTelephony(fail=True)
    floor.agents.login("ana", EN_311, T0)
    floor.push("c1", "311", ["line:311"], T0)
    [r] = floor.router.route(T0)
    with pytest.raises(TelephonyError):
        Dispatcher(floor.router, phone).accept(r.reservation_id, T0 + 1)
    assert floor.state("ana") == "wrap_up"
