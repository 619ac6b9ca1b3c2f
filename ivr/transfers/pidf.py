"""A caller's location as a PIDF-LO document, the form NENA's EIDO expects in ``locationByValue``
(as in NENA's own sample of a transferred call).

Pure: `civic_parts` reads a typed address ("1200 N Charles St, Baltimore, MD 21201") into the
elements of an RFC 5139 civic address, as far as the text allows; `document` writes the RFC
4119 presence document (a ``tuple`` whose ``status`` holds the ``gp:geopriv``) holding that
civic address and, when the coordinates are known, an RFC 5491 geodetic ``gml:Point``. What the
text did not say (the country, the state, the city) comes from the center's own defaults. The
free text itself goes in the EIDO's ``locationDescriptionText``: nothing the call-taker typed
is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

PIDF = "urn:ietf:params:xml:ns:pidf"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
GBP = "urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
GML = "http://www.opengis.net/gml"
WGS84 = "urn:ogc:def:crs:EPSG::4326"  # RFC 5491: 2-D points in WGS 84, latitude first

# RFC 5139's schema is a sequence: its elements are written in this order.
CIVIC_ORDER = ("country", "A1", "A2", "A3", "A4", "A5", "A6", "PRM", "PRD", "RD", "STS", "POD",
               "POM", "RDSEC", "RDBR", "RDSUBBR", "HNO", "HNS", "LMK", "LOC", "FLR", "NAM",
               "PC", "BLD", "UNIT", "ROOM", "SEAT", "PLC", "PCN", "POBOX", "ADDCODE")

for _prefix, _uri in (("gp", GP), ("gbp", GBP), ("ca", CA),
                      ("gml", GML)):
    ET.register_namespace(_prefix, _uri)

_DIRECTIONS = {"n": "N", "north": "N", "s": "S", "south": "S", "e": "E", "east": "E",
               "w": "W", "west": "W", "ne": "NE", "nw": "NW", "se": "SE", "sw": "SW"}
_SUFFIXES = {"st": "Street", "street": "Street", "ave": "Avenue", "av": "Avenue",
             "avenue": "Avenue", "rd": "Road", "road": "Road", "blvd": "Boulevard",
             "boulevard": "Boulevard", "dr": "Drive", "drive": "Drive", "ln": "Lane",
             "lane": "Lane", "ct": "Court", "court": "Court", "pl": "Place", "place": "Place",
             "way": "Way", "ter": "Terrace", "terrace": "Terrace", "pkwy": "Parkway",
             "parkway": "Parkway", "hwy": "Highway", "highway": "Highway", "cir": "Circle",
             "circle": "Circle", "sq": "Square", "square": "Square", "aly": "Alley",
             "alley": "Alley"}
_UNIT = re.compile(r"^(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*(\S+)$", re.I)
_STATE_ZIP = re.compile(r"^([A-Za-z]{2})(?:\s+(\d{5})(?:-\d{4})?)?$")
_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
_HOUSE = re.compile(r"^(\d+)([A-Za-z]|\s*1/2)?$")


@dataclass(frozen=True)
class Location:
    """Where the caller is, as known to this center: the typed text ("" when only the
    coordinates are known) and, when a service request holds them, its coordinates."""

    text: str
    lat: float | None = None
    long: float | None = None

    @property
    def known(self) -> bool:
        return bool(self.text.strip()) or self.geodetic

    @property
    def geodetic(self) -> bool:
        return (self.lat is not None and self.long is not None
                and -90 <= self.lat <= 90 and -180 <= self.long <= 180)


def _street(words: list[str], out: dict[str, str]) -> None:
    """House number, pre-directional, road name, suffix, post-directional."""
    if words:
        house = _HOUSE.match(words[0])
        if house:
            out["HNO"] = house.group(1)
            if house.group(2):
                out["HNS"] = house.group(2).strip()
            words = words[1:]
    if len(words) > 1 and words[0].lower().rstrip(".") in _DIRECTIONS:
        out["PRD"] = _DIRECTIONS[words[0].lower().rstrip(".")]
        words = words[1:]
    if len(words) > 1 and words[-1].lower().rstrip(".") in _DIRECTIONS:
        out["POD"] = _DIRECTIONS[words[-1].lower().rstrip(".")]
        words = words[:-1]
    if len(words) > 1 and words[-1].lower().rstrip(".") in _SUFFIXES:
        out["STS"] = _SUFFIXES[words[-1].lower().rstrip(".")]
        words = words[:-1]
    if words:
        out["RD"] = " ".join(words)


def civic_parts(text: str, defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """The RFC 5139 elements of a typed US-style address (street, then optional unit, city,
    state and ZIP code, separated by commas). A text that is not an address ("behind the
    school") keeps only the defaults and ``LOC`` (additional location information)."""
    out = {k: v for k, v in (defaults or {}).items() if v}
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if not pieces:
        return out
    first = pieces[0].split()
    if not _HOUSE.match(first[0]):  # not a street address: described, not parsed
        out["LOC"] = text.strip()
        return out
    unit = re.search(r"\s(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*\S+$", pieces[0], re.I)
    if unit:
        out["UNIT"] = _UNIT.match(unit.group().strip()).group(1)  # type: ignore[union-attr]
        first = pieces[0][:unit.start()].split()
    _street(first, out)
    rest = pieces[1:]
    if rest and _UNIT.match(rest[0]):
        out["UNIT"] = _UNIT.match(rest.pop(0)).group(1)  # type: ignore[union-attr]
    if rest and rest[-1].strip().upper() in ("US", "USA", "UNITED STATES"):
        out["country"] = "US"
        rest.pop()
    if rest:
        tail = rest[-1]
        state = _STATE_ZIP.match(tail)
        zip_only = _ZIP.match(tail)
        if state:
            out["A1"] = state.group(1).upper()
            if state.group(2):
                out["PC"] = state.group(2)
            rest.pop()
        elif zip_only:
            out["PC"] = zip_only.group(1)
            rest.pop()
        else:  # "City ST 21201" in one piece
            words = tail.split()
            if len(words) > 1 and _STATE_ZIP.match(" ".join(words[-2:])) and \
                    _ZIP.match(words[-1]):
                out["A1"], out["PC"] = words[-2].upper(), words[-1]
                rest[-1] = " ".join(words[:-2])
            elif len(words) > 1 and re.fullmatch(r"[A-Z]{2}", words[-1]):
                out["A1"] = words[-1]
                rest[-1] = " ".join(words[:-1])
    rest = [r for r in rest if r]
    if rest:
        out["A3"] = rest[-1]
    return out


def document(location: Location, *, entity: str, device: str, at: datetime,
             defaults: Mapping[str, str] | None = None,
             retention: timedelta = timedelta(days=1)) -> str:
    """The PIDF-LO of `location` (an XML string with its declaration), ``Manual`` method:
    a call-taker typed it, or a service request recorded it."""
    q = "{%s}%s".__mod__
    # PIDF is the default namespace, as in NENA's sample; ElementTree only declares prefixed
    # ones (and refuses a default one beside unqualified attributes), so it is written here.
    presence = ET.Element("presence", {"xmlns": PIDF, "entity": entity})
    tup = ET.SubElement(presence, "tuple", {"id": device})
    status = ET.SubElement(tup, "status")
    geopriv = ET.SubElement(status, q((GP, "geopriv")))
    info = ET.SubElement(geopriv, q((GP, "location-info")))
    if location.text.strip():
        civic = ET.SubElement(info, q((CA, "civicAddress")), {
            "{http://www.w3.org/XML/1998/namespace}lang": "en-US"})
        parts = civic_parts(location.text, defaults)
        for name in CIVIC_ORDER:
            if parts.get(name):
                ET.SubElement(civic, q((CA, name))).text = parts[name]
    if location.geodetic:
        point = ET.SubElement(info, q((GML, "Point")), {"srsName": WGS84})
        ET.SubElement(point, q((GML, "pos"))).text = f"{location.lat:.6f} {location.long:.6f}"
    rules = ET.SubElement(geopriv, q((GP, "usage-rules")))
    ET.SubElement(rules, q((GBP, "retransmission-allowed"))).text = "true"
    ET.SubElement(rules, q((GBP, "retention-expiry"))).text = _stamp(at + retention)
    ET.SubElement(geopriv, q((GP, "method"))).text = "Manual"
    ET.SubElement(tup, "timestamp").text = _stamp(at)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(presence,
                                                                  encoding="unicode")


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="seconds")
