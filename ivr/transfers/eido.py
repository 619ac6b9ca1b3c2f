"""The hand-off a dispatch center receives: an incident record shaped by NENA's EIDO.

Pure: given what the center knows about a call and its transfer, returns the JSON document (no
clock, no I/O). The shape follows ``reference/eido/`` (the schema and its sample of a
transferred call): one call component (times, direction, state), the caller's callback number,
the location if known (a PIDF-LO document in ``locationByValue``, `ivr.transfers.pidf`, and the
text as typed in ``locationDescriptionText``), the call-taker's notes, the agencies involved
with their roles, the call-taker, and the transfer's id (in the incident's tracking id and as
additional data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.transfers.pidf import Location, document

VERSION = "1.0"


@dataclass(frozen=True)
class Handoff:
    """What goes into one hand-off."""

    transfer_id: str
    mode: str  # warm | cold | menu
    origin: str  # console | api | menu
    call_sid: str
    line: str
    caller: str  # E.164, or "" when withheld
    started_at: datetime
    answered_at: datetime | None
    at: datetime  # when the transfer began
    our_agency: str
    dispatch_agency: str
    dispatch_label: str
    agent: str | None = None
    notes: Sequence[tuple[datetime, str, str]] = ()  # (when, by, text)
    location: Location | None = None
    civic_defaults: Mapping[str, str] = field(default_factory=dict)  # country, A1, A3 ...
    topic: str | None = None
    menu_path: Sequence[str] = field(default_factory=tuple)
    language: str = "en"


def incident_id(call_sid: str, agency: str) -> str:
    return f"urn:emergency:uid:incidentid:{call_sid}:{agency}"


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _prologue(id_: str, when: datetime, agency: str, agent: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"$id": id_, "lastUpdateTimeStamp": _stamp(when),
                           "updatedByAgencyReference": {"$ref": agency}}
    if agent:
        out["updatedByAgentReference"] = {"$ref": agent}
    return out


def build(h: Handoff) -> dict[str, Any]:
    """The EIDO document of hand-off `h`."""
    agency, agent_ref = h.our_agency, f"{h.agent}@{h.our_agency}" if h.agent else None
    call_id = f"urn:emergency:uid:callid:{h.call_sid}:{agency}"
    callback_id = f"callback:{h.call_sid}"
    person_id = f"person:{h.call_sid}:caller"
    transfer_data_id = f"transfer:{h.transfer_id}"
    call: dict[str, Any] = {
        **_prologue(call_id, h.at, agency, agent_ref),
        "queueIdentifier": f"line-{h.line}@{agency}",
        "standardPrimaryCallType": "emergency",
        "direction": "incoming",
        "callStartTimestamp": _stamp(h.started_at),
        "callStateRegistryText": "partyAdd" if h.mode == "warm" else "callTransfer",
        "additionalDataReference": [{"$ref": transfer_data_id}],
        "personReference": [{"$ref": person_id}],
    }
    if h.answered_at is not None:
        call["answerDate"] = _stamp(h.answered_at)
    if agent_ref:
        call["agentReference"] = [{"$ref": agent_ref}]
    doc: dict[str, Any] = {
        **_prologue(incident_id(h.call_sid, agency), h.at, agency, agent_ref),
        "eidoVersion": VERSION,
        "issuingElementIdentification": f"ivr.{agency}",
        "incidentComponent": {
            **_prologue(f"incident:{h.call_sid}", h.at, agency, agent_ref),
            "incidentTrackingIdentifier": f"{h.call_sid}/{h.transfer_id}",
            "incidentTypeCommonRegistryText": "Unknown" if h.mode != "menu" else "Emergency",
            "incidentTypeInternalCode": h.topic or "unclassified",
        },
        "callComponent": [call],
        "agencyComponent": [
            {**_prologue(agency, h.at, agency, None),
             "agencyRoleDescriptionRegistryText": ["CallTransferring"],
             "agencyType": ["other"]},
            {**_prologue(h.dispatch_agency, h.at, agency, None),
             "agencyRoleDescriptionRegistryText": ["CallReceiving"],
             "agencyType": ["psap"]},
        ],
        "personComponent": [{
            **_prologue(person_id, h.at, agency, None),
            "personIncidentRoleRegistryText": ["Caller"],
            "callIdentifier": [call_id],
        }],
        "additionalDataComponent": [{
            **_prologue(transfer_data_id, h.at, agency, None),
            "additionalDataByValue": _transfer_note(h),
        }],
    }
    if h.caller:
        doc["callbackComponent"] = [{
            **_prologue(callback_id, h.at, agency, None),
            "callBackInformationUri": [f"tel:{h.caller}"],
        }]
        call["callBackReference"] = {"$ref": callback_id}
        doc["personComponent"][0]["callBackReference"] = {"$ref": callback_id}
    if agent_ref:
        doc["agentComponent"] = [{
            **_prologue(agent_ref, h.at, agency, agent_ref),
            "agentRoleRegistryText": ["Call Taking"],
            "agencyReference": {"$ref": agency},
        }]
    if h.location is not None and h.location.known:
        location_id = f"location:{h.call_sid}"
        doc["locationComponent"] = [{
            **_prologue(location_id, h.at, agency, agent_ref),
            "locationTypeDescriptionRegistryText": "Caller",
            "locationByValue": document(h.location, entity=f"pres:caller-{h.call_sid}@{agency}",
                                        device=f"caller-{h.call_sid}", at=h.at,
                                        defaults=h.civic_defaults),
        }]
        if h.location.text.strip():
            doc["locationComponent"][0]["locationDescriptionText"] = h.location.text.strip()
        call["locationReference"] = [{"$ref": location_id}]
    if h.notes:
        doc["notesComponent"] = [{
            **_prologue(f"note:{h.call_sid}:{i}", when, agency, f"{by}@{agency}"),
            "notesActionComments": text,
        } for i, (when, by, text) in enumerate(h.notes, 1)]
    return doc


def _transfer_note(h: Handoff) -> str:
    parts = [f"transfer {h.transfer_id}", f"mode {h.mode}", f"origin {h.origin}",
             f"line {h.line}", f"language {h.language}"]
    if h.menu_path:
        parts.append("menu path " + " > ".join(h.menu_path))
    parts.append(f"to {h.dispatch_label}")
    return "; ".join(parts)


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What the dispatch inbox shows of a hand-off."""
    callback = (doc.get("callbackComponent") or [{}])[0].get("callBackInformationUri") or []
    place = (doc.get("locationComponent") or [{}])[0]
    location = place.get("locationDescriptionText") or place.get("locationByValue")
    notes = [n.get("notesActionComments", "") for n in doc.get("notesComponent") or []]
    call = (doc.get("callComponent") or [{}])[0]
    return {"incident": doc.get("$id"), "callback": callback[0] if callback else None,
            "location": location, "notes": notes,
            "type": (doc.get("incidentComponent") or {}).get("incidentTypeInternalCode"),
            "call_started": call.get("callStartTimestamp"),
            "agencies": [{"id": a.get("$id"), "role": a.get("agencyRoleDescriptionRegistryText")}
                         for a in doc.get("agencyComponent") or []]}
