"""Call-taker accounts: validation, the store, passwords, the migration and `ivr agents`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine

from ivr.accounts import accounts
from ivr.accounts.accounts import AccountError
from ivr.cli.main import main
from ivr.platform.db import transaction
from ivr.platform.sql import Base

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def login() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def session(services):  # type: ignore[no-untyped-def]
    with transaction(services.sessions) as s:
        yield s


def test_an_account_keeps_its_fields_and_only_a_hash_of_the_password(session) -> None:  # type: ignore[no-untyped-def]
    name = login()
    made = accounts.create(session, login=name.upper(), name="  Ada   Lovelace ",
                           password=PASSWORD, roles=["supervisor", "call-taker"],
                           skills=["line:911", "LANG:es", "line:911"], contact="410-555-0123",
                           now=NOW)
    found = accounts.get(session, name)
    assert found is made
    assert found.login == name  # lowercased: it is the call-taker id in Redis too
    assert found.name == "Ada Lovelace"
    assert found.roles == ["call-taker", "supervisor"]
    assert found.skills == ["lang:es", "line:911"]
    assert found.contact == "+14105550123"
    assert found.active and found.created_at == NOW == found.updated_at
    assert PASSWORD not in found.password_hash and found.password_hash.startswith("scrypt:")
    assert "password_hash" not in found.as_dict()
    assert found.client_identity is None


def test_the_default_contact_is_the_browser_phone(session) -> None:  # type: ignore[no-untyped-def]
    made = accounts.create(session, login=login(), name="B", password=PASSWORD,
                           roles=["call-taker"], now=NOW)
    assert made.contact == f"client:{made.login}"
    assert made.client_identity == made.login
    assert accounts.contact_of(session, made.login) == made.contact


@pytest.mark.parametrize("field, value, words", [
    ("login", "x", "login"),
    ("login", "has space", "login"),
    ("roles", ["janitor"], "janitor"),
    ("roles", [], "at least one"),
    ("skills", ["311"], "KIND:VALUE"),
    ("skills", ["color:red"], "KIND:VALUE"),
    ("contact", "call me maybe", "contact"),
    ("contact", "client:bad identity", "identity"),
    ("password", "short", "at least 10"),
    ("name", "   ", "name"),
])
def test_bad_input_is_refused_with_a_sentence_naming_the_field(  # type: ignore[no-untyped-def]
        session, field, value, words) -> None:
    fields = {"login": login(), "name": "N", "password": PASSWORD, "roles": ["call-taker"],
              "skills": ["line:311"], "contact": None}
    fields[field] = value
    with pytest.raises(AccountError, match=words):
        accounts.create(session, now=NOW, **fields)


def test_a_login_is_unique(session) -> None:  # type: ignore[no-untyped-def]
    name = login()
    accounts.create(session, login=name, name="A", password=PASSWORD, roles=["admin"], now=NOW)
    with pytest.raises(AccountError, match="taken"):
        accounts.create(session, login=name, name="B", password=PASSWORD, roles=["admin"],
                        now=NOW)


def test_authenticate_needs_the_right_password_and_an_active_account(session) -> None:  # type: ignore[no-untyped-def]
    name = login()
    made = accounts.create(session, login=name, name="A", password=PASSWORD,
                           roles=["call-taker"], now=NOW)
    assert accounts.authenticate(session, name, PASSWORD) is made
    assert accounts.authenticate(session, name.upper(), PASSWORD) is made
    assert accounts.authenticate(session, name, PASSWORD + "x") is None
    assert accounts.authenticate(session, "nobody-" + name, PASSWORD) is None
    assert accounts.authenticate(session, "", "") is None
    stamp = made.stamp
    accounts.update(session, name, now=NOW, active=False)
    assert accounts.authenticate(session, name, PASSWORD) is None
    assert made.stamp != stamp  # open web sessions of the account end
    assert accounts.contact_of(session, name) is None


def test_update_changes_only_what_is_given(session) -> None:  # type: ignore[no-untyped-def]
    name = login()
    accounts.create(session, login=name, name="A", password=PASSWORD, roles=["call-taker"],
                    skills=["line:311"], now=NOW)
    later = datetime(2026, 11, 24, tzinfo=UTC)
    changed = accounts.update(session, name, now=later, skills=["line:911", "lang:es"],
                              password="another long password")
    assert changed.name == "A" and changed.roles == ["call-taker"]
    assert changed.skills == ["lang:es", "line:911"]
    assert changed.updated_at == later
    assert accounts.authenticate(session, name, "another long password") is changed
    with pytest.raises(AccountError, match="no account"):
        accounts.update(session, "nobody-" + name, now=later, name="x")


def test_the_migrations_make_the_accounts_table_as_the_model_says(backend) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(backend.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    about_accounts = [d for d in diff if "accounts" in repr(d)]
    assert about_accounts == []


# -- ivr agents ----------------------------------------------------------------------------------

@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("IVR_CONFIG", raising=False)
    return CliRunner()


def test_ivr_agents_add_list_set_and_disable(cli_env: CliRunner) -> None:
    add = cli_env.invoke(main, ["agents", "add", "chief", "--name", "Chief Supervisor",
                                "--role", "supervisor", "--role", "call-taker",
                                "--skill", "line:311", "--skill", "lang:en", "--password-stdin"],
                         input=PASSWORD + "\n")
    assert add.exit_code == 0, add.output
    assert "added chief" in add.output
    listed = cli_env.invoke(main, ["agents", "list"])
    assert "chief" in listed.output and "call-taker,supervisor" in listed.output
    assert "client:chief" in listed.output

    changed = cli_env.invoke(main, ["agents", "set", "chief", "--skill", "line:911",
                                    "--contact", "+1 410 555 0199"])
    assert changed.exit_code == 0, changed.output
    as_json = cli_env.invoke(main, ["agents", "list", "--json"])
    assert '"skills": ["line:911"]' in as_json.output and "+14105550199" in as_json.output

    disabled = cli_env.invoke(main, ["agents", "disable", "chief"])
    assert disabled.exit_code == 0 and "disabled chief" in disabled.output
    assert "(disabled)" in cli_env.invoke(main, ["agents", "list"]).output
    enabled = cli_env.invoke(main, ["agents", "set", "chief", "--enable"])
    assert enabled.exit_code == 0 and "(disabled)" not in enabled.output


def test_ivr_agents_add_prompts_for_the_password_twice(cli_env: CliRunner) -> None:
    result = cli_env.invoke(main, ["agents", "add", "pat", "--name", "Pat"],
                            input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "call-taker" in result.output  # the default role
    assert PASSWORD not in result.output


def test_ivr_agents_reports_bad_input_without_a_traceback(cli_env: CliRunner) -> None:
    short = cli_env.invoke(main, ["agents", "add", "pat", "--name", "Pat", "--password-stdin"],
                           input="short\n")
    assert short.exit_code == 1 and "at least 10" in short.output
    bad_skill = cli_env.invoke(main, ["agents", "add", "pat", "--name", "Pat", "--skill", "911",
                                      "--password-stdin"], input=PASSWORD + "\n")
    assert bad_skill.exit_code == 1 and "KIND:VALUE" in bad_skill.output
    missing = cli_env.invoke(main, ["agents", "disable", "nobody"])
    assert missing.exit_code == 1 and "no account 'nobody'" in missing.output
    assert "Traceback" not in short.output + bad_skill.output + missing.output
