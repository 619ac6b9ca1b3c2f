"""openapi/console.yaml and the routes under /api/v1 (every blueprint) name the same endpoints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from flask import Flask

SPEC = Path(__file__).resolve().parents[3] / "openapi" / "console.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def spec() -> dict:
    return yaml.safe_load(SPEC.read_text("utf-8"))


def test_every_route_is_documented_and_every_documented_path_is_served(app: Flask) -> None:
    document = spec()
    base = document["servers"][0]["url"]
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        if not path.startswith(base + "/"):
            continue
        served |= {(path[len(base):], m.lower()) for m in rule.methods or ()
                   if m.lower() in METHODS}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in METHODS}
    assert served - documented == set(), "routes missing from openapi/console.yaml"
    assert documented - served == set(), "documented but not served"


def test_the_document_is_valid_openapi_3_1() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = spec()
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_every_post_documents_the_csrf_header() -> None:
    for path, item in spec()["paths"].items():
        for method in ("post", "patch"):
            if method in item:
                assert {"session": [], "csrf": []} in item[method].get("security", []), path
