"""The service catalogue: which request types a center takes, and the questions each one asks.

The catalogue is a YAML file (the packaged one is ``ivr/data/services.yaml``; a center may name its
own). This module only reads and checks it: `ivr.service_requests.sync_catalogue` puts it in SQL,
where the phone flows, the console and the Open311 API read it. A mistake in the file is reported
with the service and the field it concerns, never half-loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# Open311 GeoReport v2 attribute datatypes.
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
SERVICE_TYPES = ("realtime", "batch", "blackbox")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the service and the field."""


@dataclass(frozen=True)
class Choice:
    """One option of a list attribute: `key` is sent and stored, `name` is shown or spoken."""

    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    """One question of a service (an Open311 attribute)."""

    code: str
    datatype: str
    required: bool = False
    description: str = ""
    order: int = 1
    values: tuple[Choice, ...] = ()
    # False: a notice shown to the requester, not a question (Open311's `variable`).
    variable: bool = True
    datatype_description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code, "datatype": self.datatype, "required": self.required,
            "description": self.description, "order": self.order, "variable": self.variable,
            "datatype_description": self.datatype_description,
        }
        if self.values:
            out["values"] = [{"key": c.key, "name": c.name} for c in self.values]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attribute:
        """The inverse of `to_dict` (for rows already checked when they were stored)."""
        return cls(
            code=data["code"], datatype=data["datatype"], required=bool(data.get("required")),
            description=data.get("description") or "", order=int(data.get("order") or 1),
            values=tuple(Choice(v["key"], v["name"]) for v in data.get("values") or ()),
            variable=bool(data.get("variable", True)),
            datatype_description=data.get("datatype_description"),
        )


@dataclass(frozen=True)
class ServiceSpec:
    """One service type as the catalogue file declares it."""

    code: str
    name: str
    group: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    agency: str | None = None
    expected_days: float | None = None
    attributes: tuple[Attribute, ...] = field(default=())
    type: str = "realtime"
    # The type's code in the city's own system, for forwarding requests there one day.
    external_code: str | None = None

    @property
    def metadata(self) -> bool:
        """Open311's `metadata`: True when the service has a definition worth fetching."""
        return bool(self.attributes)


def packaged_catalogue_text() -> str:
    return resources.files("ivr").joinpath("data/services.yaml").read_text("utf-8")


def load_catalogue(path: str | Path | None = None) -> list[ServiceSpec]:
    """The services of the file at `path`, or of the packaged catalogue when `path` is None."""
    if path is None:
        return parse_catalogue(packaged_catalogue_text(), "ivr/data/services.yaml")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise CatalogueError(f"cannot read service catalogue {path}: {exc.strerror}") from exc
    return parse_catalogue(text, str(path))


def parse_catalogue(text: str, source: str = "<catalogue>") -> list[ServiceSpec]:
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(tree, dict) or not isinstance(tree.get("services"), list):
        raise CatalogueError(f"{source} must hold a mapping with a 'services' list")
    specs: list[ServiceSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(tree["services"], start=1):
        spec = _service(entry, f"{source}: service #{index}")
        if spec.code in seen:
            raise CatalogueError(f"{source}: service code {spec.code!r} appears twice")
        seen.add(spec.code)
        specs.append(spec)
    return specs


def _text(value: Any, where: str, name: str, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise CatalogueError(f"{where}: '{name}' is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CatalogueError(f"{where}: '{name}' must be text")
    return str(value).strip()


def _service(entry: Any, where: str) -> ServiceSpec:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where} must be a mapping")
    code = _text(entry.get("code"), where, "code", required=True) or ""
    if not _CODE.match(code):
        raise CatalogueError(f"{where}: code {code!r} must be letters, digits, '.', '_' or '-'")
    where = f"{where} ({code})"
    days = entry.get("expected_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)
                             or days < 0):
        raise CatalogueError(f"{where}: 'expected_days' must be a number of days, 0 or more")
    kind = entry.get("type", "realtime")
    if kind not in SERVICE_TYPES:
        raise CatalogueError(f"{where}: 'type' must be one of {', '.join(SERVICE_TYPES)}")
    keywords = entry.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k for k in (w.strip() for w in keywords.split(",")) if k]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise CatalogueError(f"{where}: 'keywords' must be a list of words or phrases")
    raw_attributes = entry.get("attributes") or []
    if not isinstance(raw_attributes, list):
        raise CatalogueError(f"{where}: 'attributes' must be a list")
    attributes = [_attribute(a, where, i) for i, a in enumerate(raw_attributes, start=1)]
    codes = [a.code for a in attributes]
    if len(set(codes)) != len(codes):
        raise CatalogueError(f"{where}: attribute codes must be unique")
    return ServiceSpec(
        code=code,
        name=_text(entry.get("name"), where, "name", required=True) or "",
        group=_text(entry.get("group"), where, "group"),
        description=_text(entry.get("description"), where, "description"),
        keywords=tuple(k.strip() for k in keywords if k.strip()),
        agency=_text(entry.get("agency"), where, "agency"),
        expected_days=float(days) if days is not None else None,
        attributes=tuple(sorted(attributes, key=lambda a: a.order)),
        type=kind,
        external_code=_text(entry.get("external_code"), where, "external_code"),
    )


def _attribute(entry: Any, service: str, index: int) -> Attribute:
    where = f"{service}: attribute #{index}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where} must be a mapping")
    code = _text(entry.get("code"), where, "code", required=True) or ""
    if not _CODE.match(code):
        raise CatalogueError(f"{where}: code {code!r} must be letters, digits, '.', '_' or '-'")
    where = f"{service}: attribute {code!r}"
    datatype = entry.get("datatype")
    if datatype not in DATATYPES:
        raise CatalogueError(f"{where}: 'datatype' must be one of {', '.join(DATATYPES)}")
    for flag in ("required", "variable"):
        if flag in entry and not isinstance(entry[flag], bool):
            raise CatalogueError(f"{where}: '{flag}' must be true or false")
    order = entry.get("order", index)
    if isinstance(order, bool) or not isinstance(order, int):
        raise CatalogueError(f"{where}: 'order' must be a whole number")
    choices = _choices(entry.get("values"), where)
    if datatype in LIST_DATATYPES and not choices:
        raise CatalogueError(f"{where}: a {datatype} needs 'values'")
    if choices and datatype not in LIST_DATATYPES:
        raise CatalogueError(f"{where}: only list datatypes take 'values'")
    variable = entry.get("variable", True)
    required = entry.get("required", False)
    if required and not variable:
        raise CatalogueError(f"{where}: a notice (variable: false) cannot be required")
    return Attribute(
        code=code, datatype=datatype, required=required,
        description=_text(entry.get("description"), where, "description") or "",
        order=order, values=choices, variable=variable,
        datatype_description=_text(entry.get("datatype_description"), where,
                                   "datatype_description"),
    )


def _choices(values: Any, where: str) -> tuple[Choice, ...]:
    """`values` as a mapping (key: name) or as a list of {key, name}."""
    if values is None:
        return ()
    if isinstance(values, dict):
        pairs = list(values.items())
    elif isinstance(values, list) and all(isinstance(v, dict) for v in values):
        pairs = [(v.get("key"), v.get("name")) for v in values]
    else:
        raise CatalogueError(f"{where}: 'values' must map each key to its name")
    out: list[Choice] = []
    for key, name in pairs:
        if isinstance(key, bool) or isinstance(name, bool):
            raise CatalogueError(f"{where}: quote yes/no/true/false in 'values' (YAML reads them "
                                 f"as booleans)")
        if key is None or name is None or str(key).strip() == "":
            raise CatalogueError(f"{where}: every value needs a key and a name")
        out.append(Choice(str(key).strip(), str(name).strip()))
    if len({c.key for c in out}) != len(out):
        raise CatalogueError(f"{where}: value keys must be unique")
    return tuple(out)
