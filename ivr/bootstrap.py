"""The composition root: settings in, wired services (`ivr.services.Services`) out.

Every process (web worker, RQ worker, CLI, emulator-driven tests) builds its services here, so
adapters are chosen in one place: which Redis, which database, which Twilio REST endpoint,
which clock.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from agents.presence import Agents
from agents.routing import Router
from ivr.accounts.accounts import contact_of
from ivr.calls.lines import LineDirectory
from ivr.calls.links import Links
from ivr.calls.live import LiveCalls
from ivr.flows.live import sql_flows
from ivr.flows.store import FlowStore
from ivr.platform.clock import Clock, system_clock
from ivr.platform.config import ConfigError, Settings
from ivr.platform.db import make_engine, prepare, session_factory
from ivr.platform.floor_config import agent_rules, queue_classes
from ivr.platform.redisconn import connect
from ivr.quality.config import QualityConfig, RecordingConfig
from ivr.service_requests.service_types import sync_catalogue
from ivr.services import Services
from ivr.telephony.adapter import ConnectConfig, TwilioTelephony
from ivr.voice.hooks import CallPathHooks
from queues import Queues


def account_contacts(sessions: sessionmaker[Session], settings: Settings) -> Callable[[str], str]:
    """Where to ring a call-taker: their account's contact, else the configured pattern."""
    fallback = ConnectConfig.from_settings(settings).contact_of

    def contact(agent_id: str) -> str:
        with sessions() as session:
            return contact_of(session, agent_id) or fallback(agent_id)

    return contact


def bootstrap(
    settings: Settings, clock: Clock | None = None, flows: FlowStore | None = None,
) -> Services:
    if not settings.auth_token:
        raise RuntimeError(
            "TWILIO_AUTH_TOKEN is not set: webhooks cannot be verified. Set it from your Twilio "
            "console (or run `ivr serve`, which makes a local one for a trial)."
        )
    try:  # a wrong recording or review setting stops the start, never a call
        RecordingConfig.from_raw(settings.raw)
        QualityConfig.from_raw(settings.raw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    client = connect(settings.redis_url, settings.data_dir)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    queues = Queues(client, settings.center, queue_classes(settings))
    agents = Agents(client, settings.center, queues, agent_rules(settings))
    return Services(
        settings=settings,
        redis=client,
        engine=engine,
        sessions=sessions,
        flows=flows or sql_flows(engine, sessions, settings.center, clock or system_clock),
        lines=LineDirectory(settings),
        live=LiveCalls(client, settings.center),
        queues=queues,
        agents=agents,
        router=Router(agents),
        validator=RequestValidator(settings.auth_token),
        clock=clock or system_clock,
        links=Links(client, settings.center),
        telephony=TwilioTelephony(settings, contacts=account_contacts(sessions, settings)),
        hooks=CallPathHooks(),
    )


def prepare_database(url: str) -> None:
    """The schema at head and the service catalogue loaded: what every process tree needs
    before it serves (``ivr db upgrade``, ``ivr serve``, the demo, tests)."""
    prepare(url, seed=sync_catalogue)
