"""`ivr.web.csrf` on a small app of its own: the token, where it is read from, what it guards."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, jsonify

from ivr.web import csrf


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    guarded = Blueprint("guarded", __name__, url_prefix="/g")
    csrf.protect(guarded, lambda: (jsonify(error="csrf"), 403))

    @guarded.route("/thing", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def thing():  # type: ignore[no-untyped-def]
        return jsonify(ok=True)

    @guarded.get("/token")
    def token():  # type: ignore[no-untyped-def]
        return jsonify(token=csrf.token())

    open_bp = Blueprint("open", __name__, url_prefix="/o")

    @open_bp.post("/thing")
    def open_thing():  # type: ignore[no-untyped-def]
        return jsonify(ok=True)

    app.register_blueprint(guarded)
    app.register_blueprint(open_bp)
    return app.test_client()


def test_safe_methods_pass_without_a_token(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/g/thing").status_code == 200
    assert client.head("/g/thing").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_state_changing_method_needs_the_token(client, method) -> None:  # type: ignore[no-untyped-def]
    token = client.get("/g/token").get_json()["token"]
    call = getattr(client, method)
    assert call("/g/thing").status_code == 403
    assert call("/g/thing", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert call("/g/thing", headers={"X-CSRF-Token": token}).status_code == 200


def test_a_form_may_send_it_as_a_field(client) -> None:  # type: ignore[no-untyped-def]
    token = client.get("/g/token").get_json()["token"]
    assert client.post("/g/thing", data={"csrf_token": token}).status_code == 200
    assert client.post("/g/thing", data={"csrf_token": token[:-1]}).status_code == 403


def test_a_json_body_field_does_not_count(client) -> None:  # type: ignore[no-untyped-def]
    token = client.get("/g/token").get_json()["token"]
    assert client.post("/g/thing", json={"csrf_token": token}).status_code == 403


def test_a_session_without_a_token_refuses_even_an_empty_header(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/g/thing", headers={"X-CSRF-Token": ""}).status_code == 403


def test_the_token_is_stable_in_a_session_and_differs_between_sessions(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/g/token").get_json()["token"]
    assert client.get("/g/token").get_json()["token"] == first
    assert len(first) >= 40
    other = client.application.test_client()
    second = other.get("/g/token").get_json()["token"]
    assert second != first
    # one session's token is worthless in another
    assert other.post("/g/thing", headers={"X-CSRF-Token": first}).status_code == 403


def test_blueprints_that_did_not_opt_in_are_untouched(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/o/thing").status_code == 200
