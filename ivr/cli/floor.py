"""The `ivr staffing` and `ivr audit` commands: the floor's figures from the terminal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import click
import requests
from twilio.base.exceptions import TwilioException

from agents import Agents
from ivr.bootstrap import prepare_database
from ivr.calls.lines import LineDirectory
from ivr.cli import common
from ivr.floor import audit as auditing
from ivr.floor import reports, statelog
from ivr.floor import staffing as erlang
from ivr.platform.db import make_engine
from ivr.platform.floor_config import agent_rules, queue_classes
from ivr.platform.redisconn import connect
from ivr.telephony.rest import rest_client
from queues import Queues


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


@click.command("staffing")
@click.option("--calls", required=True, type=click.FloatRange(min=0),
              help="Calls arriving in the interval.")
@click.option("--interval", required=True, type=click.FloatRange(min=0, min_open=True),
              help="Length of the interval, in seconds.")
@click.option("--aht", required=True, type=click.FloatRange(min=0, min_open=True),
              help="Average handle time (talk + wrap-up), in seconds.")
@click.option("--target", required=True, type=click.FloatRange(min=0),
              help="Answer-time target of the service level, in seconds.")
@click.option("--agents", type=click.IntRange(min=0), default=None,
              help="Call-takers on duty: gives the service level they reach.")
@click.option("--goal", type=click.FloatRange(min=0, max=100, min_open=True, max_open=True),
              default=None, help="Service-level goal in percent: gives the call-takers needed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def staffing(calls: float, interval: float, aht: float, target: float, agents: int | None,
             goal: float | None, as_json: bool) -> None:
    """Erlang C: call-takers needed for a goal (--goal), or what --agents achieve."""
    if (agents is None) == (goal is None):
        raise click.UsageError("give exactly one of --agents N or --goal PERCENT")
    try:
        load = erlang.Load(calls, interval, aht, target)
        result = (erlang.for_agents(load, agents) if agents is not None
                  else erlang.for_goal(load, goal / 100))  # type: ignore[operator]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    asa = "infinite (too few call-takers)" if result.asa_seconds is None \
        else f"{result.asa_seconds:.1f} s"
    click.echo(f"traffic            {result.erlangs:.2f} Erlangs")
    click.echo(f"call-takers        {result.agents}")
    click.echo(f"probability of waiting  {result.p_wait:.3f}")
    click.echo(f"service level      {_percent(result.service_level)} within {target:g} s")
    click.echo(f"average speed of answer {asa}")
    click.echo(f"occupancy          {_percent(result.occupancy)}")
    click.echo("Erlang C assumes one first-come queue and patient callers: no priorities "
               "(311 behind 911 waits longer), no abandonment.")


@click.command("audit")
@click.option("--day", default=None, metavar="YYYY-MM-DD",
              help="The center's local day to audit (default: today).")
@click.option("--twilio", "with_twilio", is_flag=True,
              help="Also hold every call's final state against Twilio's records of the day "
                   "(REST, with TWILIO_AUTH_TOKEN and the configured account).")
@common.DATA_DIR
def audit(day: str | None, with_twilio: bool) -> None:
    """Check a day's SQL records for the floor's invariants; print each violation with the
    calls involved. Exit status 1 when there is any."""
    settings = common.data_folder(common.settings(), uses_redis=True)
    try:
        chosen = date.fromisoformat(day) if day else \
            reports.local_day(datetime.now(UTC), settings.timezone)
    except ValueError as exc:
        raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--day") \
            from exc
    start, end = reports.day_span(chosen, settings.timezone)
    classes = queue_classes(settings)
    prepare_database(settings.database_url)  # a center never served yet has a day of nothing
    engine = make_engine(settings.database_url)
    try:  # (an embedded Redis started here is stopped when the command ends: `ivr.cli.main`)
        try:  # the call-takers' last changes, if Redis is there to give them
            client = connect(settings.redis_url, settings.data_dir)
            queues = Queues(client, settings.center, classes)
            statelog.drain(Agents(client, settings.center, queues, agent_rules(settings)),
                           engine)
            client.close()
        except Exception as exc:  # noqa: BLE001 - the audit of SQL goes on without Redis
            why = common.plain(exc, settings) or f"{type(exc).__name__}: {exc}".splitlines()[0]
            click.echo(f"note: state changes still in Redis not recorded: {why}", err=True)
        twilio = None
        if with_twilio:
            try:
                twilio = auditing.twilio_records(rest_client(settings), start, end)
            except (TwilioException, requests.RequestException) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise click.ClickException(f"cannot read Twilio's records: {first}") from exc
        found = auditing.audit(engine, start, end, auditing.ranks_of(classes),
                               center=settings.center, twilio=twilio,
                               our_numbers=LineDirectory(settings).numbers(),
                               now=datetime.now(UTC))
    finally:
        engine.dispose()
    for violation in found:
        click.echo(str(violation))
    click.echo(f"{chosen.isoformat()}: {len(found)} violation(s)")
    if found:
        raise SystemExit(1)
