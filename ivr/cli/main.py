"""The `ivr` command: serve, worker, db, flows, call, agents."""

from __future__ import annotations

import contextlib
import os
import socket
import sys

import click

from callflows.check import validate_files
from ivr.bootstrap import prepare_database
from ivr.cli import common
from ivr.cli.agents import agents
from ivr.cli.demo import demo
from ivr.cli.floor import audit, staffing
from ivr.cli.flows import add_commands
from ivr.demo.sandbox import sandbox
from ivr.demo.trycall import environment_caller, run_call
from ivr.platform import running
from ivr.platform.clock import local_time
from ivr.platform.db import upgrade
from ivr.platform.redisconn import stopped_after
from ivr.serve import serve as run_service
from ivr.worker import run_worker


class _Guarded(click.Group):
    """The `ivr` group: an error a user can act on (a server down, a folder not writable) is one
    sentence and exit status 2, never a traceback; and no embedded Redis started by the command
    outlives it."""

    def invoke(self, ctx: click.Context) -> object:
        with stopped_after():
            try:
                return super().invoke(ctx)
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except Exception as exc:
                message = common.plain(exc, ctx.meta.get(common.SETTINGS))
                if message is None:
                    raise
                raise common.Refused(message) from None


@click.group(cls=_Guarded)
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
@common.DATA_DIR
def serve(host: str, port: int, workers: int, threads: int, with_worker: bool | None,
          emulate: bool) -> None:
    """Serve the webhooks, API and consoles with gunicorn."""
    settings = common.data_folder(common.settings(find_running=False), uses_redis=True)
    _port_free(host, port)
    os.environ["IVR_DATA_DIR"] = str(settings.data_dir)  # its parts read the same folder
    if with_worker is None:
        with_worker = settings.redis_url == "embedded"
    # A center on the embedded defaults is announced, so commands typed in other folders find
    # it (`ivr.cli.common`); one on servers is found through the same environment variables.
    on_its_folder = settings.redis_url == "embedded" and common.local_sqlite(settings)
    with running.announced(settings.data_dir, settings.public_url) if on_its_folder \
            else contextlib.nullcontext():
        run_service(settings, host, port, workers, threads, with_worker, emulate=emulate)


def _port_free(host: str, port: int) -> None:
    """Refuse at once a port another process listens on (gunicorn would retry, then its
    supervisor restart it, for ever)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise common.Refused(f"cannot listen on {host}:{port} ({exc.strerror}): is another "
                                 "`ivr serve` running? Choose another --port.") from None


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@common.DATA_DIR
def worker(burst: bool) -> None:
    """Run an RQ worker for the background jobs."""
    run_worker(common.data_folder(common.settings(), uses_redis=True), burst=burst)


@main.group()
def db() -> None:
    """The SQL schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@common.DATA_DIR
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (Alembic), then load the service catalogue."""
    settings = common.data_folder(common.settings())
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
                   "holidays): in a sandbox with the center's flows and none of its records, "
                   "removed afterwards. Default: now, in the center itself.")
@common.DATA_DIR
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
    if line not in settings.lines:
        raise click.ClickException(f"no line {line!r}; the lines are "
                                   f"{', '.join(sorted(settings.lines))}")
    with contextlib.ExitStack() as stack:
        if start is None:
            common.data_folder(settings, uses_redis=True)
        else:  # a pretended time never writes into the center (`ivr.demo.sandbox`)
            settings = stack.enter_context(sandbox(settings))
            click.echo(f"A trial call at {start:%Y-%m-%d %H:%M %Z}, in a sandbox of its own: "
                       "the center's flows, none of its records; removed afterwards.")
        common.redis_answers(settings)
        run_call(settings, line, caller or environment_caller(), read=read, write=click.echo,
                 max_minutes=max_minutes, start=start)


main.add_command(agents)
add_commands(flows)
main.add_command(staffing)
main.add_command(audit)
main.add_command(demo)

if __name__ == "__main__":
    main()
