"""Headers of every JSON answer (issue 18, finding 8): never cached, never sniffed, HSTS over a
public https URL, and an Open311 405 saying what is allowed."""

from __future__ import annotations

import dataclasses

from flask import Flask

from ivr.app import create_app
from tests.ivr.console_support import Desk, add_account


def _json_headers_ok(response) -> None:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/json", response.mimetype
    assert response.headers.get("Cache-Control") == "no-store", dict(response.headers)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_json_answers_are_not_cached_nor_sniffed_and_carry_hsts(app: Flask, services) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    desk = Desk(app.test_client(), add_account(services, roles=("supervisor",)))
    for response in (client.get("/api/v1/me"),  # 401
                     desk.get("/me"), desk.get("/floor"), desk.get("/flows"),
                     desk.get("/no-such-thing"),
                     client.get("/open311/v2/services.json"),
                     client.get("/open311/v2/discovery.json"),
                     client.get("/open311/v2/nothing.json"),
                     client.get("/healthz")):
        _json_headers_ok(response)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    page = client.get("/console/login")
    assert "Strict-Transport-Security" in page.headers  # the tests' public URL is https


def test_no_hsts_when_the_public_url_is_plain_http(services) -> None:  # type: ignore[no-untyped-def]
    services.settings = dataclasses.replace(services.settings,
                                            public_url="http://127.0.0.1:8000")
    client = create_app(services=services).test_client()
    response = client.get("/api/v1/me")
    _json_headers_ok(response)
    assert "Strict-Transport-Security" not in response.headers


def test_an_open311_405_names_the_allowed_methods(app: Flask) -> None:
    client = app.test_client()
    refused = client.post("/open311/v2/services.json")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD"
    _json_headers_ok(refused)
    deleted = client.delete("/open311/v2/requests.json")
    assert deleted.status_code == 405 and set(deleted.headers["Allow"].split(", ")) == {
        "GET", "HEAD", "POST"}
    assert client.put("/open311/v2/requests/26-00000001.xml").headers["Allow"] == "GET, HEAD"
