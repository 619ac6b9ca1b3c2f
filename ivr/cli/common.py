"""What every sub-command of `ivr` shares: the center's settings and its data folder, found from
any folder, and a mistake or a missing server said in one sentence (never a traceback).

The data folder (SQLite, the embedded Redis, the log key) is, first found first:

1. ``--data-dir``, 2. ``IVR_DATA_DIR`` (or ``data_dir`` in the config file, when absolute),
3. ``./var`` where it exists or where a config file is read (a center's own folder),
4. the folder of the `ivr serve` running on this machine (`ivr.platform.running`),
5. ``./var``, made when a command first needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import redis
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ivr.platform import config, running
from ivr.platform.redisconn import EmbeddedRedisError
from ivr.platform.redisconn import client as redis_client

_DATA_DIR = "ivr.data_dir"
SETTINGS = "ivr.settings"


class Refused(click.ClickException):
    """A command that cannot do its work here: one sentence that says what to do, exit 2."""

    exit_code = 2


def _remember(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[_DATA_DIR] = value


DATA_DIR = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), expose_value=False,
    callback=_remember,
    help="The center's data folder (SQLite, embedded Redis). Default: IVR_DATA_DIR, else ./var "
         "if here, else the running `ivr serve`'s, else ./var.")


def _load(env: dict[str, str]) -> config.Settings:
    try:
        return config.load_settings(env=env)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def settings(find_running: bool = True) -> config.Settings:
    """The settings every process reads (defaults, config file, environment), on the data folder
    found as the module docstring says (`find_running=False`: never a running server's, for
    `ivr serve` itself)."""
    ctx = click.get_current_context(silent=True)
    found = _settings(ctx, find_running)
    if ctx is not None:
        ctx.meta[SETTINGS] = found  # for `plain`, to name the database an error is about
    return found


def _settings(ctx: click.Context | None, find_running: bool) -> config.Settings:
    env = dict(os.environ)
    chosen = ctx.meta.get(_DATA_DIR) if ctx is not None else None
    if chosen is not None:
        env["IVR_DATA_DIR"] = str(chosen)
    found = _load(env)
    if chosen is not None or env.get("IVR_DATA_DIR") or not find_running:
        return found
    here = env.get("IVR_CONFIG") or Path("config.yaml").is_file()
    if found.data_dir.is_absolute() or found.data_dir.exists() or here:
        return found
    folders = sorted({str(s.data_dir) for s in running.servers()})
    if len(folders) > 1:
        raise Refused(f"{len(folders)} `ivr serve` are running, on {' and '.join(folders)}: "
                      "choose one with --data-dir (or IVR_DATA_DIR).")
    if folders:
        click.echo(f"(the center of the running `ivr serve`, in {folders[0]})", err=True)
        return _load({**env, "IVR_DATA_DIR": folders[0]})
    return found


def local_sqlite(settings: config.Settings) -> bool:
    """Whether the database is the default SQLite file inside the data folder."""
    return settings.database_url == f"sqlite:///{settings.data_dir / 'ivr.db'}"


def data_folder(settings: config.Settings, uses_redis: bool = False) -> config.Settings:
    """Make the data folder when this command keeps something there (the SQLite file, the
    embedded Redis if it `uses_redis`), or say in one sentence why it cannot be."""
    if not (local_sqlite(settings) or (uses_redis and settings.redis_url == "embedded")):
        return settings
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        usable = os.access(folder, os.W_OK | os.X_OK)
        reason = "it is not writable"
    except OSError as exc:
        usable, reason = False, (exc.strerror or str(exc)).lower()
    if not usable:
        raise Refused(f"cannot use {folder} as the data folder ({reason}): give one you can "
                      "write to with --data-dir or IVR_DATA_DIR.")
    return settings


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "the configured URL"


def plain(exc: BaseException, settings: config.Settings | None = None) -> str | None:
    """One sentence for an error a user can act on (a server down, a folder not writable), or
    None for a bug (which keeps its traceback: it is ours to fix)."""
    if isinstance(exc, config.ConfigError | EmbeddedRedisError | CommandError):
        return str(exc)
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (f"cannot reach Redis ({first.rstrip('.')}): start it, or set IVR_REDIS_URL "
                "to one that runs.")
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return f"the database URL is not one SQLAlchemy knows ({exc}): check IVR_DATABASE_URL."
    if isinstance(exc, DBAPIError):  # never the SQL statement: it is not the user's to read
        first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        where = _safe_url(settings.database_url) if settings else "the database"
        if "no such table" in first or "does not exist" in first:
            return f"{where} has no schema yet ({first}): run `ivr db upgrade`."
        return (f"cannot use the database {where} ({first.rstrip('.')}): start it, or set "
                "IVR_DATABASE_URL or --data-dir to one that works.")
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot use {exc.filename} ({(exc.strerror or str(exc)).lower()})."
    return None


def redis_answers(settings: config.Settings) -> None:
    """Say at once when a configured Redis server does not answer (a call would otherwise
    hold, as it does when Redis fails mid-call, until its time runs out)."""
    if settings.redis_url == "embedded":
        return
    try:
        client = redis_client(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    except ValueError as exc:
        raise Refused(f"IVR_REDIS_URL is not a Redis URL ({exc}).") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise Refused(plain(exc) or str(exc)) from None
    finally:
        client.close()
