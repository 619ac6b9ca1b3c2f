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
    masked = mask("+14105550100")
    assert "4105550100" not in masked and masked.endswith("00")
    assert mask("+14105550100") == masked
