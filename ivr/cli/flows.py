"""`ivr flows ...`: the flow operations of the editor, from a shell.

Shell access to the server is an operator's, so no role is asked; every change is audited with
the actor ``cli:<user>`` (or ``--as``). Problems are printed as ``FILE:LINE: message`` and make
the command exit with status 1, as ``ivr flows validate`` does.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from ivr.bootstrap import prepare_database
from ivr.cli import common
from ivr.flows.announcements import AnnouncementRefused, Announcements
from ivr.flows.live import SqlFlowStore
from ivr.flows.versions import DraftConflict, FlowMissing, FlowRefused, FlowVersions
from ivr.platform.clock import system_clock
from ivr.platform.config import Settings
from ivr.platform.db import make_engine, session_factory


def _open(settings: Settings | None = None) -> tuple[FlowVersions, Engine]:
    """The center's flows (schema migrated, shipped flows imported) and the SQL engine."""
    settings = common.data_folder(settings or common.settings())
    prepare_database(settings.database_url)
    engine = make_engine(settings.database_url)
    versions = FlowVersions(session_factory(engine), settings.center, system_clock)
    versions.ensure_shipped()
    return versions, engine


def _versions() -> FlowVersions:
    return _open()[0]


def _actor(given: str | None) -> str:
    return given or f"cli:{getpass.getuser()}"


def _fail(exc: Exception) -> None:
    for problem in getattr(exc, "errors", []):
        click.echo(str(problem))
    raise click.ClickException(str(exc))


ACTOR = click.option("--as", "actor", default=None, help="Who the audit names (default "
                                                         "cli:<your user>).")


@click.command("list")
@common.DATA_DIR
def flows_list() -> None:
    """Every flow: live version, draft revision, who saved it."""
    versions = _versions()
    for name in versions.names():
        draft = versions.draft(name)
        live = f"v{draft.live_version}" if draft.live_version else "nothing live"
        click.echo(f"{name}\t{live}\tdraft r{draft.revision} by {draft.saved_by} "
                   f"{draft.saved_at:%Y-%m-%d %H:%M}")


@click.command("export")
@common.DATA_DIR
@click.argument("name")
@click.option("--version", "which", default="live", show_default=True,
              help="A version number, 'live' or 'draft'.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (default: print).")
def flows_export(name: str, which: str, output: str | None) -> None:
    """Print (or write) the YAML of a flow's version or draft."""
    try:
        label, text = _versions().text_of(name, which)
    except FlowMissing as exc:
        raise click.ClickException(str(exc)) from exc
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{name} {label} written to {output}")
    else:
        click.echo(text, nl=False)


def _import(versions: FlowVersions, path: str, name: str | None, actor: str) -> tuple[str, int]:
    """Save the file as the flow's draft (a new flow when none has its name)."""
    text = Path(path).read_text(encoding="utf-8")
    name = name or _name_in(text) or Path(path).stem
    try:
        if name in versions.names():
            saved = versions.save_draft(name, text, versions.draft(name).revision, actor)
        else:
            saved = versions.create(name, text, actor)
    except (DraftConflict, FlowRefused) as exc:
        _fail(exc)
        raise  # (not reached: _fail raises)
    for problem in saved.problems:
        click.echo(f"{path}:{problem.line}: {problem.message}")
    click.echo(f"{path} saved as the draft of flow {name} (revision {saved.revision}, "
               f"{len(saved.problems)} problem(s))")
    return name, len(saved.problems)


def _name_in(text: str) -> str | None:
    import yaml

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # the import's own check says what is wrong
        return None
    name = data.get("flow") if isinstance(data, dict) else None
    return str(name) if name is not None else None


@click.command("import")
@common.DATA_DIR
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", default=None, help="The flow (default: the file's `flow:`).")
@ACTOR
def flows_import(path: str, name: str | None, actor: str | None) -> None:
    """Save a YAML file as a flow's draft (nothing goes live until it is published)."""
    _, problems = _import(_versions(), path, name, _actor(actor))
    if problems:
        sys.exit(1)


@click.command("publish")
@common.DATA_DIR
@click.argument("name")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Import this file as the draft first.")
@click.option("--note", default="", help="Why, for the audit.")
@ACTOR
def flows_publish(name: str, path: str | None, note: str, actor: str | None) -> None:
    """Publish the flow's draft as its next version and make it live (refused if it has
    problems)."""
    versions = _versions()
    who = _actor(actor)
    if path:
        _import(versions, path, name, who)
    try:
        old = versions.draft(name).live_version
        number = versions.publish(name, who, note=note)
    except (FlowRefused, FlowMissing, DraftConflict) as exc:
        _fail(exc)
        return
    changes = versions.diff(name, old, number) if old else None
    click.echo(f"flow {name}: version {number} is live" +
               (f" ({changes.summary()})" if changes else ""))


@click.command("rollback")
@common.DATA_DIR
@click.argument("name")
@click.option("--to", "to", type=int, default=None,
              help="The version to make live (default: the one before the live one).")
@ACTOR
def flows_rollback(name: str, to: int | None, actor: str | None) -> None:
    """Make an earlier published version live again."""
    try:
        number = _versions().rollback(name, _actor(actor), to=to)
    except (FlowRefused, FlowMissing) as exc:
        _fail(exc)
        return
    click.echo(f"flow {name}: version {number} is live again")


@click.command("diff")
@common.DATA_DIR
@click.argument("name")
@click.argument("old", default="live")
@click.argument("new", default="draft")
def flows_diff(name: str, old: str, new: str) -> None:
    """The changes between two of: a version number, 'live', 'draft' (default live draft)."""
    try:
        changes = _versions().diff(name, old, new)
    except FlowMissing as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(changes.unified if not changes.same else changes.summary())


@click.command("history")
@common.DATA_DIR
@click.argument("name")
def flows_history(name: str) -> None:
    """Published versions and the audit of a flow, newest first."""
    versions = _versions()
    try:
        published = versions.versions(name)
    except FlowMissing as exc:
        raise click.ClickException(str(exc)) from exc
    for v in published:
        click.echo(f"v{v.version}{' (live)' if v.live else ''}\t{v.published_at:%Y-%m-%d %H:%M}"
                   f"\t{v.published_by}\t{v.note}")
    click.echo("--")
    for entry in versions.audit(f"flow:{name}"):
        click.echo(f"{entry['at'][:19]}\t{entry['actor']}\t{entry['action']}\t{entry['detail']}")


@click.command("announce")
@common.DATA_DIR
@click.argument("line")
@click.option("--text", "texts", multiple=True, metavar="LANG=MESSAGE",
              help="The message in one language of the line's flow (repeat for each).")
@click.option("--off", is_flag=True, help="Switch the line's message off.")
@ACTOR
def flows_announce(line: str, texts: tuple[str, ...], off: bool, actor: str | None) -> None:
    """Switch a line's storm or closure message on (every new call hears it) or off."""
    settings = common.settings()
    spec = settings.lines.get(line)
    if spec is None:
        raise click.ClickException(f"no line {line!r}; the lines are "
                                   f"{', '.join(sorted(settings.lines))}")
    versions, engine = _open(settings)
    board = Announcements(engine, versions.sessions, settings.center, system_clock)
    who = _actor(actor)
    if off:
        was_on = board.switch_off(line, who)
        click.echo(f"line {line}: the message is off" + ("" if was_on else " (it was not on)"))
        return
    message = dict(item.split("=", 1) for item in texts if "=" in item)
    if not message or len(message) != len(texts):
        raise click.ClickException("give the message as --text en=\"...\" --text es=\"...\"")
    flow, _ = SqlFlowStore(engine, settings.center, lambda: None).live(spec.flow)
    try:
        board.switch_on(line, flow, message, who)
    except AnnouncementRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"line {line}: the message is on for every new call")


def add_commands(group: click.Group) -> None:
    for command in (flows_list, flows_export, flows_import, flows_publish, flows_rollback,
                    flows_diff, flows_history, flows_announce):
        group.add_command(command)
