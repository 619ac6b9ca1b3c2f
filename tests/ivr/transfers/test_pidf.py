"""The caller's location in a hand-off: a typed address read into RFC 5139 parts, written as
an RFC 4119 PIDF-LO in the EIDO's ``locationByValue`` (the text in
``locationDescriptionText``), checked against NENA's EIDO schema and the PIDF-LO RFCs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.transfers import eido
from ivr.transfers.pidf import Location, civic_parts, document
from tests.ivr.eido_schema import errors, sample
from tests.ivr.pidf_check import civic, point, problems

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CITY = {"country": "US", "A1": "MD", "A3": "Baltimore"}


@pytest.mark.parametrize(("text", "parts"), [
    ("1200 N Charles St, Baltimore, MD 21201",
     {"HNO": "1200", "PRD": "N", "RD": "Charles", "STS": "Street", "A3": "Baltimore",
      "A1": "MD", "PC": "21201", "country": "US"}),
    ("42 W Cellular Street Apt 3, Wilmington, DE",
     {"HNO": "42", "PRD": "W", "RD": "Cellular", "STS": "Street", "UNIT": "3",
      "A3": "Wilmington", "A1": "DE", "country": "US"}),
    ("7 Oak Rd", {"HNO": "7", "RD": "Oak", "STS": "Road", **CITY}),
    ("300 Light St SW, Towson MD 21204",
     {"HNO": "300", "RD": "Light", "STS": "Street", "POD": "SW", "A3": "Towson", "A1": "MD",
      "PC": "21204", "country": "US"}),
    ("Corner of Elm St and 3rd Ave", {"LOC": "Corner of Elm St and 3rd Ave", **CITY}),
])
def test_typed_addresses_read_into_civic_parts(text, parts) -> None:  # type: ignore[no-untyped-def]
    assert civic_parts(text, CITY) == parts


def test_the_pidf_lo_is_rfc_4119_with_a_civic_address_and_a_point() -> None:
    xml = document(Location("1200 N Charles St, Baltimore, MD 21201", 39.3036, -76.6158),
                   entity="pres:caller-CA1@311.city.example", device="caller-CA1", at=AT,
                   defaults=CITY)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert problems(xml) == []
    assert civic(xml) == {"country": "US", "A1": "MD", "A3": "Baltimore", "PRD": "N",
                          "RD": "Charles", "STS": "Street", "HNO": "1200", "PC": "21201"}
    assert point(xml) == (39.3036, -76.6158)


def test_no_point_without_coordinates_and_no_civic_without_text() -> None:
    typed = document(Location("7 Oak Rd"), entity="pres:a@b", device="d", at=AT, defaults=CITY)
    assert problems(typed) == [] and point(typed) is None
    coords = document(Location("", 39.29, -76.61), entity="pres:a@b", device="d", at=AT)
    assert problems(coords) == [] and civic(coords) == {} and point(coords) == (39.29, -76.61)


def test_the_checker_accepts_nenas_own_sample_and_refuses_broken_documents() -> None:
    [nena] = [c["locationByValue"] for c in sample()["locationComponent"]
              if "locationByValue" in c]
    assert problems(nena) == []
    good = document(Location("7 Oak Rd"), entity="pres:a@b", device="d", at=AT, defaults=CITY)
    assert problems(good.replace("<ca:HNO>7</ca:HNO>", "")
                    .replace("<ca:RD>", "<ca:HNO>7</ca:HNO><ca:RD>"))  # out of order
    assert problems(good.replace("geopriv10:civicAddr", "geopriv10:civic"))
    assert problems(good.replace("<ca:country>US</ca:country>", ""))
    assert problems("<presence/>")


def _handoff(location: Location | None) -> eido.Handoff:
    return eido.Handoff(
        transfer_id="t1", mode="cold", origin="console", call_sid="CA1", line="911",
        caller="+14105550100", started_at=AT, answered_at=AT, at=AT,
        our_agency="311.city.example", dispatch_agency="psap.county.example",
        dispatch_label="County", agent="alice", location=location, civic_defaults=CITY)


def test_the_eido_carries_the_pidf_lo_and_the_text_and_validates() -> None:
    doc = eido.build(_handoff(Location("1200 N Charles St", 39.3036, -76.6158)))
    assert errors(doc) == []
    [place] = doc["locationComponent"]
    assert place["locationDescriptionText"] == "1200 N Charles St"
    assert problems(place["locationByValue"]) == []
    assert civic(place["locationByValue"])["HNO"] == "1200"
    assert doc["callComponent"][0]["locationReference"] == [{"$ref": place["$id"]}]
    assert eido.summary(doc)["location"] == "1200 N Charles St"
    bare = eido.build(_handoff(None))
    assert errors(bare) == [] and "locationComponent" not in bare
