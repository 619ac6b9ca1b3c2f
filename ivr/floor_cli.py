"""The `ivr staffing` and `ivr audit` commands: the floor's figures from the terminal."""

from __future__ import annotations

import json

import click


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
    from ivr import staffing as erlang

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
