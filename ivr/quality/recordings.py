"""Recordings of calls: what Twilio's recording status callbacks say, the retention that
deletes them at Twilio and here, and their media fetched with the account's credentials.

The media URL Twilio sends is never stored nor shown: the app keeps the Recording's sid and
builds the URL on its own REST base (`twilio.api_base`), so the credentials only ever go to
Twilio (or the configured emulator), whatever a callback says.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ivr.calls import calllog
from ivr.platform.config import Settings
from ivr.quality.config import RecordingConfig
from ivr.quality.models import Recording, RecordingPlay

log = logging.getLogger("ivr.recordings")

recordings_t = Recording.__table__
plays_t = RecordingPlay.__table__
STATUSES = ("in-progress", "completed", "absent")
CHUNK = 64 * 1024


def on_status(engine: Engine, settings: Settings, call_sid: str, form: Mapping[str, str],
              now: datetime) -> None:
    """A recording status callback for the conference of `call_sid`. Idempotent: a repeated
    or late ``in-progress`` never undoes ``completed``; a deleted recording stays deleted."""
    sid, status = form.get("RecordingSid", ""), form.get("RecordingStatus", "")
    if not sid.startswith("RE") or status not in STATUSES:
        log.warning("recording callback for %s without a usable sid or status", call_sid)
        return
    config = RecordingConfig.from_raw(settings.raw)
    duration = _int(form.get("RecordingDuration"))
    channels = _int(form.get("RecordingChannels")) or 1
    for attempt in (1, 2):  # a twin callback may insert the row between our read and write
        try:
            with engine.begin() as conn:
                _apply(conn, settings.center, call_sid, sid, status, form, duration, channels,
                       config, now)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _apply(conn: Connection, center: str, call_sid: str, sid: str, status: str,
           form: Mapping[str, str], duration: int | None, channels: int,
           config: RecordingConfig, now: datetime) -> None:
    row = conn.execute(select(recordings_t.c.status).where(recordings_t.c.sid == sid)).first()
    if row is None:
        conn.execute(insert(recordings_t).values(
            sid=sid, center=center, call_sid=call_sid,
            conference_sid=form.get("ConferenceSid", ""), status="in-progress",
            channels=channels, started_at=now))
        calllog.add_event(conn, call_sid, now, "call-recording", sid)
    elif row.status in ("completed", "absent", "deleted"):
        return
    if status != "in-progress":
        conn.execute(update(recordings_t).where(recordings_t.c.sid == sid).values(
            status=status, duration=duration if duration and duration >= 0 else None,
            channels=channels, completed_at=now,
            delete_after=now + timedelta(days=config.retention_days)))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Purged:
    deleted: list[str]
    failed: list[str]


def purge(engine: Engine, client: Client, center: str, now: datetime,
          retention_days: float | None = None) -> Purged:
    """Delete at Twilio every recording of `center` past its retention, then mark it deleted
    here. One Twilio already forgot (404) counts as deleted; one Twilio refused is tried again
    at the next purge. No SQL transaction is open during a REST request.

    With `retention_days`, Twilio's own list is read too (Twilio is the truth): a conference
    recording older than that whose callbacks never reached the app, or whose record here
    never completed, is deleted all the same. One that another center's records name is
    left to that center."""
    with engine.connect() as conn:
        due = list(conn.execute(select(recordings_t.c.sid).where(
            recordings_t.c.center == center, recordings_t.c.delete_after <= now,
            recordings_t.c.deleted_at.is_(None))).scalars())
    if retention_days is not None:
        seen = set(due)
        for sid in _old_at_twilio(client, now - timedelta(days=retention_days)):
            if sid not in seen:
                seen.add(sid)
                due.append(sid)
        with engine.connect() as conn:
            others = set(conn.execute(select(recordings_t.c.sid).where(
                recordings_t.c.sid.in_(due),
                (recordings_t.c.center != center) | recordings_t.c.deleted_at.is_not(None)))
                .scalars())
        due = [sid for sid in due if sid not in others]
    deleted, failed = [], []
    for sid in due:
        try:
            client.recordings(sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                log.warning("recording %s: Twilio refused the delete: %s", sid, exc.msg)
                failed.append(sid)
                continue
        except Exception as exc:  # noqa: BLE001 - the network: retried at the next purge
            log.warning("recording %s: could not reach Twilio: %s", sid, exc)
            failed.append(sid)
            continue
        with engine.begin() as conn:
            conn.execute(update(recordings_t).where(recordings_t.c.sid == sid).values(
                status="deleted", deleted_at=now))
        deleted.append(sid)
    return Purged(deleted, failed)


def _old_at_twilio(client: Client, cutoff: datetime) -> list[str]:
    """Twilio's conference recordings created at or before `cutoff`. Twilio filters by day
    (UTC), so the list asks for the days up to the cutoff's and the instant is checked here."""
    day = (cutoff + timedelta(days=1)).date()
    before = datetime(day.year, day.month, day.day, tzinfo=UTC)
    out = []
    for r in client.recordings.stream(date_created_before=before, page_size=100):
        created = r.start_time or r.date_created
        if r.source == "Conference" and r.conference_sid and created is not None \
                and created <= cutoff and r.status != "in-progress":
            out.append(r.sid)
    return out


def of_call(conn: Connection, call_sid: str) -> Recording | None:
    """The call's playable recording (completed, not deleted), the latest one."""
    row = conn.execute(select(recordings_t).where(
        recordings_t.c.call_sid == call_sid, recordings_t.c.status == "completed")
        .order_by(recordings_t.c.started_at.desc())).first()
    return None if row is None else Recording(**row._mapping)


def get(conn: Connection, sid: str) -> Recording | None:
    row = conn.execute(select(recordings_t).where(recordings_t.c.sid == sid)).first()
    return None if row is None else Recording(**row._mapping)


def record_play(engine: Engine, rec: Recording, actor: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(insert(plays_t).values(recording_sid=rec.sid, call_sid=rec.call_sid,
                                            actor=actor, at=now))


def plays(conn: Connection, sid: str) -> list[tuple[str, datetime]]:
    return [(r.actor, r.at) for r in conn.execute(
        select(plays_t.c.actor, plays_t.c.at).where(plays_t.c.recording_sid == sid)
        .order_by(plays_t.c.id))]


class MediaError(Exception):
    """Twilio did not give the media: `status` is what the browser should get."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Media:
    content_type: str
    length: str | None
    chunks: Iterator[bytes]


def media(settings: Settings, sid: str, channels: int, timeout: float = 10.0) -> Media:
    """The recording's WAV from Twilio, streamed: fetched with the account's credentials on
    the configured REST base (``RequestedChannels`` 1 or 2)."""
    url = (f"{settings.api_base}/2010-04-01/Accounts/{settings.account_sid}/Recordings/"
           f"{sid}.wav")
    try:
        resp = requests.get(url, params={"RequestedChannels": str(channels)}, stream=True,
                            auth=(settings.account_sid, settings.auth_token), timeout=timeout)
    except requests.RequestException as exc:
        raise MediaError(502, f"Twilio could not be reached: {exc.__class__.__name__}") from exc
    if resp.status_code != 200:
        resp.close()
        raise MediaError(404 if resp.status_code == 404 else 502,
                         f"Twilio answered {resp.status_code} for the recording")

    def chunks() -> Iterator[bytes]:
        try:
            yield from resp.iter_content(CHUNK)
        finally:
            resp.close()

    return Media(resp.headers.get("Content-Type", "audio/x-wav"),
                 resp.headers.get("Content-Length"), chunks())


PURGE_EVERY = 3600  # seconds between purges (one process at a time, by a Redis lease)


def purge_lease(redis_client: object, center: str, seconds: int = PURGE_EVERY) -> bool:
    """True for the one process that should purge now (at most once per `seconds`)."""
    return bool(redis_client.set(  # type: ignore[attr-defined]
        f"ivr:{{{center}}}:recordings-purge", "1", nx=True, ex=seconds))
