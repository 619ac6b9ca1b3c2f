"""The emulated phone's routes (`ivr.web.emulated`): passed on to a real carrier
(`ivr.demo.carrier`, served on a localhost port, reaching the app in-process), refused on a real
carrier, and the banner on the pages only under `--emulate`."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.test import Client

from ivr.app import create_app
from ivr.bootstrap import bootstrap
from ivr.demo.carrier import Carrier
from ivr.sim import WSGITransport
from tests.ivr.console_support import Desk, add_account

KEY = "the-carrier-key"


@pytest.fixture
def emulated(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, Carrier]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_EMULATOR_KEY", KEY)
    holder: dict[str, Flask] = {}
    carrier = Carrier(settings, KEY, WSGITransport(lambda e, s: holder["app"](e, s)))
    server = make_server("127.0.0.1", 0, carrier, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    services = bootstrap(dataclasses.replace(settings, emulator_url=url, api_base=url))
    holder["app"] = create_app(services=services)
    yield holder["app"], carrier
    server.shutdown()
    server.server_close()
    services.engine.dispose()


def _run(carrier: Carrier, seconds: float) -> None:
    carrier.sim.advance(seconds)


def test_a_test_call_and_the_callers_side_through_the_app(emulated) -> None:  # type: ignore[no-untyped-def]
    app, carrier = emulated
    desk = Desk(app.test_client(), add_account(app.extensions["ivr"]))
    assert desk.get("/emulator").get_json()["lines"]["311"] == "+14435550311"
    placed = desk.post("/emulator/calls", {"line": "311"})
    assert placed.status_code == 201, placed.get_json()
    sid = placed.get_json()["call"]
    kept = desk.post(f"/emulator/calls/{sid}/input", {"keys": "1"}).get_json()
    assert kept == {"result": "kept"}  # no menu listens yet: the key waits for the first one
    _run(carrier, 60)
    view = desk.get(f"/emulator/calls/{sid}").get_json()
    said = [(line["who"], line["text"]) for line in view["lines"]]
    assert ("pressed", "1") in said
    assert any(who == "heard" and "Thank you for calling" in text for who, text in said)
    assert desk.post(f"/emulator/calls/{sid}/input", {"keys": "x"}).status_code == 400
    assert desk.post(f"/emulator/calls/{sid}/input", {"hangup": True}).get_json() == {
        "result": "hung up"}
    _run(carrier, 1)
    assert desk.get(f"/emulator/calls/{sid}").get_json()["ended"] is True
    assert desk.get("/emulator/calls/CA" + "0" * 32).status_code == 404
    assert desk.post("/emulator/calls", {"line": "999"}).status_code == 400
    assert desk.get("/voice/token").get_json()["error"]["code"] == "emulated_phone"
    page = desk.client.get("/console/").get_data(as_text=True)
    assert 'id="emulated-banner"' in page and "Emulated carrier" in page


def test_a_wrong_key_is_refused_by_the_carrier(emulated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app, _carrier = emulated
    monkeypatch.setenv("IVR_EMULATOR_KEY", "not-the-key")
    desk = Desk(app.test_client(), add_account(app.extensions["ivr"]))
    refused = desk.get("/emulator")
    assert refused.status_code == 502 and refused.get_json()["error"]["code"] == "refused"


def test_on_a_real_carrier_the_routes_say_so_and_pages_have_no_banner(app: Flask,
                                                                     services) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(app.test_client(), add_account(services))
    for answer in (desk.get("/emulator"), desk.post("/emulator/calls", {"line": "311"}),
                   desk.get("/emulator/calls/CA" + "1" * 32)):
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_emulated"
    assert app.test_client().get("/api/v1/emulator").status_code == 401
    assert "emulated-banner" not in desk.client.get("/console/").get_data(as_text=True)


def test_the_carrier_answers_401_without_its_key(emulated) -> None:  # type: ignore[no-untyped-def]
    _app, carrier = emulated
    client = Client(carrier)
    assert client.get("/emulator").status_code == 401
    assert client.get("/emulator", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/emulator", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
