"""`ivr agents ...`: call-taker accounts from the terminal (the first supervisor is made here).

Passwords are never arguments (they would sit in the shell history and in `ps`): they are
prompted for, or read from standard input with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session

from ivr.accounts import accounts
from ivr.accounts.accounts import ROLES, AccountError
from ivr.bootstrap import prepare_database
from ivr.cli import common
from ivr.platform.db import make_engine, session_factory, transaction


@contextmanager
def _session() -> Iterator[tuple[Session, str]]:
    """A unit of work on the configured database, schema brought to head first (so the first
    account can be made before the first `ivr serve`)."""
    settings = common.data_folder(common.settings())
    prepare_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            yield session, settings.default_region
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _show(account: accounts.Account) -> str:
    state = "" if account.active else "  (disabled)"
    return (f"{account.login:<20} {account.name:<24} {','.join(account.roles):<22} "
            f"{' '.join(account.skills):<36} {account.contact}{state}")


@click.group("agents")
def agents() -> None:
    """Call-taker, supervisor, dispatcher and admin accounts."""


_role = click.option("--role", "roles", multiple=True, type=click.Choice(ROLES),
                     help="Repeat for several roles.")
_skill = click.option("--skill", "skills", multiple=True,
                      help="line:311, line:911, lang:en, lang:es, topic:streets ... (repeat).")
_contact = click.option("--contact", default=None,
                        help="client:<identity> (browser phone) or a phone number.")


@agents.command("add")
@common.DATA_DIR
@click.argument("login")
@click.option("--name", required=True)
@_role
@_skill
@_contact
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(login: str, name: str, roles: tuple[str, ...], skills: tuple[str, ...],
        contact: str | None, password_stdin: bool) -> None:
    """Add the account LOGIN (default role call-taker, default contact client:LOGIN)."""
    password = _password(password_stdin)
    with _session() as (session, region):
        account = accounts.create(
            session, login=login, name=name, password=password, roles=roles or ["call-taker"],
            skills=skills, contact=contact, now=datetime.now(UTC), region=region)
        click.echo(f"added {_show(account)}")


@agents.command("list")
@common.DATA_DIR
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(as_json: bool) -> None:
    """Every account, by login."""
    with _session() as (session, _region):
        for account in accounts.all_accounts(session):
            click.echo(json.dumps(account.as_dict()) if as_json else _show(account))


@agents.command("set")
@common.DATA_DIR
@click.argument("login")
@click.option("--name", default=None)
@_role
@_skill
@click.option("--no-skills", is_flag=True, help="Remove every skill.")
@_contact
@click.option("--password", "new_password", is_flag=True, help="Prompt for a new password.")
@click.option("--password-stdin", is_flag=True, help="Read a new password from standard input.")
@click.option("--enable", is_flag=True, help="Enable a disabled account.")
def set_(login: str, name: str | None, roles: tuple[str, ...], skills: tuple[str, ...],
         no_skills: bool, contact: str | None, new_password: bool, password_stdin: bool,
         enable: bool) -> None:
    """Change LOGIN: the options given replace the values (roles and skills as a whole)."""
    password = _password(password_stdin) if (new_password or password_stdin) else None
    with _session() as (session, region):
        account = accounts.update(
            session, login, now=datetime.now(UTC), region=region, name=name, password=password,
            roles=roles or None, skills=[] if no_skills else (skills or None), contact=contact,
            active=True if enable else None)
        click.echo(f"changed {_show(account)}")


@agents.command("disable")
@common.DATA_DIR
@click.argument("login")
def disable(login: str) -> None:
    """Disable LOGIN: it can no longer sign in, its open web sessions end, and `ivr worker`
    logs it out of the floor within a second (after the call it is on, if any)."""
    with _session() as (session, region):
        account = accounts.update(session, login, now=datetime.now(UTC), region=region,
                                  active=False)
        click.echo(f"disabled {account.login}")
