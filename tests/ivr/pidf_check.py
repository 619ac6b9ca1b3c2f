"""A check of a PIDF-LO document with the standard library, as RFC 4119 (the presence
document and its geopriv), RFC 5139 (the civic address) and RFC 5491 (where the geopriv sits,
the geodetic shape) define it. No XSD: the element names and their order are written out here
from the RFCs, apart from the code under test, so a mistake there shows."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

PIDF = "urn:ietf:params:xml:ns:pidf"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
GML = "http://www.opengis.net/gml"

# RFC 5139 section 4: the civicAddress sequence, in schema order.
RFC5139 = ["country", "A1", "A2", "A3", "A4", "A5", "A6", "PRM", "PRD", "RD", "STS", "POD",
           "POM", "RDSEC", "RDBR", "RDSUBBR", "HNO", "HNS", "LMK", "LOC", "FLR", "NAM", "PC",
           "BLD", "UNIT", "ROOM", "SEAT", "PLC", "PCN", "POBOX", "ADDCODE"]
GML_SHAPES = {"Point", "Polygon", "Circle", "Ellipse", "ArcBand", "Sphere", "Ellipsoid",
              "Prism"}


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def problems(xml: str) -> list[str]:
    """What is wrong with `xml` as a PIDF-LO (empty: nothing found)."""
    try:
        root = ET.fromstring(xml.encode("utf-8"))
    except ET.ParseError as exc:
        return [f"not XML: {exc}"]
    out: list[str] = []
    if root.tag != _q(PIDF, "presence"):
        return [f"root is {root.tag}, not pidf presence"]
    if not str(root.get("entity", "")).startswith("pres:"):
        out.append("presence has no pres: entity")
    geoprivs = [*root.findall(f"{_q(PIDF, 'tuple')}/{_q(PIDF, 'status')}/{_q(GP, 'geopriv')}"),
                *root.findall(f"{_q(DM, 'device')}/{_q(GP, 'geopriv')}"),
                *root.findall(f"{_q(DM, 'person')}/{_q(GP, 'geopriv')}")]
    if not geoprivs:
        return [*out, "no geopriv in a tuple's status or a dm:device/person"]
    for tup in root.findall(_q(PIDF, "tuple")):
        if not tup.get("id"):
            out.append("a tuple without id")
    for geopriv in geoprivs:
        info = geopriv.find(_q(GP, "location-info"))
        if info is None or not len(info):
            out.append("geopriv without location-info content")
            continue
        if geopriv.find(_q(GP, "usage-rules")) is None:
            out.append("geopriv without usage-rules (RFC 4119 requires them)")
        for child in info:
            if child.tag == _q(CA, "civicAddress"):
                out += _civic(child)
            elif child.tag.startswith(f"{{{GML}}}"):
                out += _shape(child)
            else:
                out.append(f"unknown location object {child.tag}")
    return out


def _civic(civic: ET.Element) -> list[str]:
    out: list[str] = []
    names = []
    for el in civic:
        ns, _, name = el.tag[1:].partition("}")
        if ns != CA or name not in RFC5139:
            out.append(f"civicAddress holds {el.tag}")
            continue
        names.append(name)
        if not (el.text or "").strip():
            out.append(f"empty {name}")
    if names != sorted(names, key=RFC5139.index):
        out.append(f"civic elements out of RFC 5139 order: {names}")
    if len(set(names)) != len(names):
        out.append(f"a civic element twice: {names}")
    country = civic.find(_q(CA, "country"))
    if country is None or not re.fullmatch(r"[A-Z]{2}", country.text or ""):
        out.append("country is not an ISO 3166 alpha-2 code")
    return out


def _shape(shape: ET.Element) -> list[str]:
    name = shape.tag.partition("}")[2]
    if name not in GML_SHAPES:
        return [f"{name} is not an RFC 5491 shape"]
    if shape.get("srsName") not in ("urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:EPSG::4979"):
        return [f"{name} srsName {shape.get('srsName')!r} is not WGS 84 (RFC 5491)"]
    if name == "Point":
        pos = (shape.findtext(_q(GML, "pos")) or "").split()
        try:
            lat, long = float(pos[0]), float(pos[1])
        except (IndexError, ValueError):
            return ["Point without a pos of two numbers"]
        if not (-90 <= lat <= 90 and -180 <= long <= 180):
            return [f"Point {lat} {long} out of range (latitude first)"]
    return []


def civic(xml: str) -> dict[str, str]:
    """The civic address elements of a PIDF-LO, by name."""
    root = ET.fromstring(xml.encode("utf-8"))
    found = root.find(f".//{_q(CA, 'civicAddress')}")
    return {} if found is None else {el.tag.partition("}")[2]: el.text or "" for el in found}


def point(xml: str) -> tuple[float, float] | None:
    root = ET.fromstring(xml.encode("utf-8"))
    pos = root.findtext(f".//{_q(GML, 'Point')}/{_q(GML, 'pos')}")
    return None if pos is None else tuple(map(float, pos.split()))  # type: ignore[return-value]
