import hashlib
from pathlib import Path

import pytest

from ivr.calls.lines import LineDirectory
from ivr.platform.config import ConfigError, ensure_local_secrets, load_settings
from ivr.platform.phones import mask, normalize


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("center: north\npublic_url: https://file.example.org/\n")
    s = load_settings(cfg, env={"IVR_PUBLIC_URL": "https://env.example.org",
                                "TWILIO_AUTH_TOKEN": "tok", "IVR_REDIS_URL": "redis://r:6379/0"})
    assert s.center == "north"
    assert s.public_url == "https://env.example.org"
    assert s.redis_url == "redis://r:6379/0"
    assert s.auth_token == "tok"
    assert s.database_url.startswith("sqlite:///")
    assert set(s.lines) == {"311", "911"}


def test_secrets_never_come_from_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("auth_token: leaked\ntwilio:\n  auth_token: leaked\n")
    assert load_settings(cfg, env={}).auth_token == ""


@pytest.mark.parametrize("text,message", [
    ("default_line: '411'\n", "default_line"),
    ("lines:\n  '311': {numbers: []}\n", "needs a 'flow'"),
    ("- a list\n", "mapping"),
    ("center: [unclosed\n", "not valid YAML"),
])
def test_bad_config_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg, env={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml", env={})


def test_local_secrets_are_random_and_kept_when_set() -> None:
    env: dict[str, str] = {"IVR_SECRET_KEY": "given"}
    made = ensure_local_secrets(env)
    assert made == ["TWILIO_AUTH_TOKEN"]
    assert len(env["TWILIO_AUTH_TOKEN"]) == 32 and env["IVR_SECRET_KEY"] == "given"


def test_dialed_number_picks_the_line(tmp_path: Path) -> None:
    s = load_settings(env={})
    lines = LineDirectory(s)
    assert lines.for_number("+14435550911").name == "911"
    assert lines.for_number("(443) 555-0911").name == "911"
    assert lines.for_number("911").name == "911"
    assert lines.for_number("+14435550311").name == "311"
    assert lines.for_number("+19995550000").name == "311"  # unknown: the default line
    assert lines.for_number("").name == "311"


def test_numbers_normalised_and_masked() -> None:
    assert normalize("(410) 555-0100") == "+14105550100"
    assert normalize("311") == "311"
    assert normalize("anonymous") == "anonymous"
    masked = mask("+14105550100", "k1")
    assert "4105550100" not in masked and masked.endswith("00")
    assert mask("+14105550100", "k1") == masked


def test_masks_are_keyed_and_cannot_be_recovered_without_the_key() -> None:
    number = "+14105550137"
    one, other = mask(number, "center-one-key"), mask(number, "center-two-key")
    assert one != other and one.endswith("..37") and other.endswith("..37")
    # Trying every number of the area code, as the attacker did, finds nothing without the key
    # (an unkeyed sha256 is what the mask used to be, and that search found the number).
    digest = one[1:].split("..")[0]
    candidates = (f"+1410555{n:04d}" for n in range(10_000))
    assert not [c for c in candidates
                if hashlib.sha256(c.encode()).hexdigest().startswith(digest)
                or mask(c, "") == one or mask(c, "guess") == one]
    # With the key, the operator's own tools can still follow the caller.
    assert mask(number, "center-one-key") == one


def test_log_key_from_environment_else_made_once_in_the_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = {"TWILIO_AUTH_TOKEN": "x"}
    from_env = load_settings(overrides={"data_dir": str(tmp_path / "a")},
                             env={**base, "IVR_LOG_KEY": "from-env"})
    assert from_env.log_key == "from-env"
    made = load_settings(overrides={"data_dir": str(tmp_path / "b")}, env=base)
    key_file = tmp_path / "b" / "log.key"
    assert len(made.log_key) >= 32 and key_file.read_text().strip() == made.log_key
    assert key_file.stat().st_mode & 0o077 == 0
    again = load_settings(overrides={"data_dir": str(tmp_path / "b")}, env=base)
    assert again.log_key == made.log_key  # kept across restarts
    other = load_settings(overrides={"data_dir": str(tmp_path / "c")}, env=base)
    assert other.log_key != made.log_key
