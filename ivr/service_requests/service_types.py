"""The service catalogue in SQL: upserted from the catalogue file, read by every door."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.service_requests.catalogue import ServiceSpec, load_catalogue
from ivr.service_requests.fields import CONTROL
from ivr.service_requests.models import ServiceType, utc


def sync_catalogue(session: Session, specs: Iterable[ServiceSpec] | None = None,
                   at: datetime | None = None) -> int:
    """Upsert the catalogue (the packaged one by default) by service code; returns how many.

    Idempotent, and safe when several processes start at once: each row is one
    INSERT ... ON CONFLICT DO UPDATE on SQLite and PostgreSQL. Services missing from the file are
    left as they are (requests still point at them).
    """
    specs = list(load_catalogue() if specs is None else specs)
    at = utc(at or datetime.now(UTC))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: merge, without the concurrency guarantee
        for spec in specs:
            session.merge(ServiceType(**_row(spec, at)))
        return len(specs)
    for spec in specs:
        row = _row(spec, at)
        stmt = insert(ServiceType).values(**row)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[ServiceType.code],
            set_={k: stmt.excluded[k] for k in row if k != "code"},
        ))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ServiceType):
            session.expire(obj)  # rows loaded before the upsert would show the old values
    return len(specs)


def _row(spec: ServiceSpec, at: datetime) -> dict[str, Any]:
    return {
        "code": spec.code, "name": spec.name, "group_name": spec.group,
        "description": spec.description, "keywords": list(spec.keywords), "agency": spec.agency,
        "expected_days": spec.expected_days, "type": spec.type,
        "attributes": [a.to_dict() for a in spec.attributes],
        "external_code": spec.external_code, "active": True, "updated_at": at,
    }


def list_services(session: Session) -> list[ServiceType]:
    """The active services, by group then name (the order menus and Open311 list them in)."""
    rows = session.scalars(select(ServiceType).where(ServiceType.active.is_(True)))
    return sorted(rows, key=lambda s: ((s.group or "").lower(), s.name.lower()))


def get_service(session: Session, code: str) -> ServiceType | None:
    if CONTROL.search(code):
        return None
    service = session.get(ServiceType, code)
    return service if service is not None and service.active else None
