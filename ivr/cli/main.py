"""The `ivr` command: serve, worker, db, flows, call, agents."""

from __future__ import annotations

import os
import sys

import click

from callflows.check import validate_files
from ivr.bootstrap import prepare_database
from ivr.cli import common
from ivr.cli.agents import agents
from ivr.cli.demo import demo
from ivr.cli.floor import audit, staffing
from ivr.cli.flows import add_commands
from ivr.demo.trycall import environment_caller, run_call
from ivr.platform.clock import local_time
from ivr.platform.db import upgrade
from ivr.serve import serve as run_service
from ivr.worker import run_worker


@click.group()
def main() -> None:
    """311/911 contact-center engine."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=(os.cpu_count() or 1) * 2 + 1, show_default="2 x cores + 1",
              type=int)
@click.option("--threads", default=32, show_default=True, type=int,
              help="Threads per worker (gthread): each open console holds one for its live "
                   "stream.")
@click.option("--worker/--no-worker", "with_worker", default=None,
              help="Also run an RQ worker (default: on the embedded Redis).")
@click.option("--emulate", is_flag=True,
              help="Run the offline Twilio emulator as the carrier: take test calls in the "
                   "console with no Twilio account.")
def serve(host: str, port: int, workers: int, threads: int, with_worker: bool | None,
          emulate: bool) -> None:
    """Serve the webhooks, API and consoles with gunicorn."""
    settings = common.settings()
    if with_worker is None:
        with_worker = settings.redis_url == "embedded"
    run_service(settings, host, port, workers, threads, with_worker, emulate=emulate)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for the background jobs."""
    run_worker(common.settings(), burst=burst)


@main.group()
def db() -> None:
    """The SQL schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (Alembic), then load the service catalogue."""
    settings = common.settings()
    if revision == "head":
        prepare_database(settings.database_url)
    else:
        upgrade(settings.database_url, revision)
    click.echo(f"schema at {revision}")


@main.group()
def flows() -> None:
    """Call flows."""


@flows.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def flows_validate(paths: tuple[str, ...]) -> None:
    """Check flow files; print every problem as FILE:LINE: message."""
    errors = validate_files(list(paths))
    for error in errors:
        click.echo(str(error))
    if errors:
        sys.exit(1)
    click.echo(f"{len(paths)} flow file(s) OK")


@main.command("call")
@click.argument("line", default="311")
@click.option("--from", "caller", default=None, help="The caller's number (default +14105550100).")
@click.option("--max-minutes", default=10.0, show_default=True, type=float,
              help="Hang up after this much call time (a queue with no call-taker never ends).")
@click.option("--at", "at", default=None, metavar="YYYY-MM-DDTHH:MM",
              help="Pretend the call is made at this local time of the center (try after hours, "
                   "holidays); default now.")
def call(line: str, caller: str | None, max_minutes: float, at: str | None) -> None:
    """Dial LINE (311, 911, ...) from the terminal through the offline emulator."""
    def read(prompt: str) -> str:
        try:
            return click.prompt(prompt, default="", show_default=False)
        except click.Abort:  # end of input or Ctrl-C: the caller hangs up
            return "h"

    settings = common.settings()
    try:
        start = local_time(at, settings.timezone) if at else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    try:
        run_call(settings, line, caller or environment_caller(), read=read, write=click.echo,
                 max_minutes=max_minutes, start=start)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


main.add_command(agents)
add_commands(flows)
main.add_command(staffing)
main.add_command(audit)
main.add_command(demo)

if __name__ == "__main__":
    main()
