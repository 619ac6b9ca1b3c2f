"""NENA's EIDO schema (tests/data/eido/openapi.yaml, copied from reference/eido) as a JSON Schema
validator, to check the hand-offs against it.

Two adaptations, both recorded here: the NIEM person/organisation/vehicle/item types live in
files not shipped with the reference, so their `$ref`s accept anything; and a few counts are
written as strings in the YAML (``minItems: '1'``, once ``'1,'``), read as the integers they mean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DATA = Path(__file__).resolve().parents[1] / "data" / "eido"
COUNTS = {"minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum"}


def _count(text: str) -> int:
    found = re.match(r"\d+", text.strip())  # one is written "1," in the reference
    if found is None:
        raise ValueError(f"a count that is not a number: {text!r}")
    return int(found.group())


def _adapt(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return {}
        return {k: (_count(v) if k in COUNTS and isinstance(v, str) else _adapt(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_adapt(x) for x in node]
    return node


def validator() -> jsonschema.Draft202012Validator:
    document = _adapt(yaml.safe_load((DATA / "openapi.yaml").read_text("utf-8")))
    schema = {**document, "$ref": "#/components/schemas/EmergencyIncidentDataObjectType"}
    return jsonschema.Draft202012Validator(schema)


def sample() -> dict[str, Any]:
    return json.loads((DATA / "sample-call-transfer.json").read_text("utf-8"))


def errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator().iter_errors(doc)]
