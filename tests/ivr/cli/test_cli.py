"""The `ivr` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ivr
from ivr.cli.main import main

FLOWS = Path(__file__).resolve().parents[3] / "ivr" / "flows"


def test_flows_validate_accepts_the_shipped_flows() -> None:
    result = CliRunner().invoke(main, ["flows", "validate", str(FLOWS / "311.yaml"),
                                       str(FLOWS / "911.yaml")])
    assert result.exit_code == 0, result.output
    assert "2 flow file(s) OK" in result.output


def test_flows_validate_prints_every_error_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "flow: bad\n"
        "languages: {en: en-US}\n"
        "start: menu\n"
        "nodes:\n"
        "  menu:\n"
        "    kind: menu\n"
        "    say: {en: Press 1.}\n"
        "    options:\n"
        "      1: nowhere\n"
        "      1: bye\n"
        "  bye:\n"
        "    kind: hangupp\n"
    )
    result = CliRunner().invoke(main, ["flows", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) >= 2
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert any(":10:" in line and "1" in line for line in lines)  # key 1 twice
    assert any(":12:" in line and "hangupp" in line for line in lines)  # unknown kind


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("IVR_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from sqlalchemy import create_engine, inspect

    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"calls", "call_events", "service_types", "alembic_version"} <= tables


def test_ivr_call_lets_a_person_walk_the_311_menu(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    # English, report a problem, pothole, silence for a call-taker; then hang up while waiting.
    result = CliRunner().invoke(main, ["call", "311", "--max-minutes", "3",
                                       "--at", "2026-11-23T10:00"], input="1\n1\n1\n\nh\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Thank you for calling City 3 1 1" in out
    assert "For a pothole, press 1" in out
    assert "You can file this report now, by phone" in out
    assert "Please stay on the line" in out
    assert "application error" not in out
    assert "-- call completed" in out


def test_ivr_call_after_hours_offers_a_message(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    result = CliRunner().invoke(main, ["call", "--at", "2026-11-22T11:00"], input="2\n\nh\n")
    assert result.exit_code == 0, result.output
    assert "está cerrado" in result.output


def test_ivr_call_names_an_unknown_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    result = CliRunner().invoke(main, ["call", "411"], input="h\n")
    assert result.exit_code != 0
    assert "no line '411'" in result.output


def test_ivr_call_twice_in_one_folder_places_two_calls(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each `ivr call` is a new call with a CallSid of its own: a second one in the same data
    folder is greeted like the first, not taken for the first call coming back."""
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    for _ in range(2):
        result = CliRunner().invoke(main, ["call", "311", "--max-minutes", "2",
                                           "--at", "2026-11-23T10:00"], input="1\n0\nh\n")
        assert result.exit_code == 0, result.output
        assert "Thank you for calling City 3 1 1" in result.output
        assert "No call-takers are available right now" in result.output


HOSTILE_DEPTHS = {
    "unclosed.yaml": "[" * 5000,
    "closed.yaml": "[" * 5000 + "]" * 5000,
    "in-a-node.yaml": "flow: deep\nlanguages: {en: en-US}\nstart: a\nnodes:\n  a: "
                      + "{k: " * 3000 + "1" + "}" * 3000 + "\n",
    "blocks.yaml": "flow: deep\nvars:\n" + "".join("  " * (i + 1) + f"k{i}:\n"
                                                  for i in range(1500)) + "\n",
}


def test_flows_validate_reports_deep_nesting_by_line_never_a_traceback(tmp_path: Path) -> None:
    for name, text in HOSTILE_DEPTHS.items():
        path = tmp_path / name
        path.write_text(text)
        result = CliRunner().invoke(main, ["flows", "validate", str(path)])
        assert result.exit_code == 1, (name, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        assert "Traceback" not in result.output and "RecursionError" not in result.output
        lines = result.output.strip().splitlines()
        assert lines and all(line.startswith(f"{path}:") for line in lines), (name, lines)
        assert any("nests" in line for line in lines), (name, lines)


@pytest.mark.parametrize("args", [
    ["flows", "validate", "FLOW"],
    ["staffing", "--calls", "360", "--interval", "1800", "--aht", "240", "--target", "20",
     "--agents", "55"],
    ["flows", "list"],
    ["db", "upgrade"],
])
def test_a_command_that_logs_no_number_leaves_an_empty_folder_empty(tmp_path: Path,
                                                                    args: list[str]) -> None:
    """Run as an operator runs it: from an empty folder, with no IVR_LOG_KEY, the database
    elsewhere (as in production). The log key is made only where numbers are masked: it was
    made in ./var/ by every command that read the settings."""
    folder, elsewhere = tmp_path / "empty", tmp_path / "db"
    folder.mkdir()
    elsewhere.mkdir()
    flow = Path(ivr.__file__).parent / "flows" / "311.yaml"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IVR_") or k == "IVR_RUNTIME_DIR"}  # (no server found elsewhere)
    env["PYTHONPATH"] = str(Path(ivr.__file__).parents[1])
    env["IVR_DATABASE_URL"] = f"sqlite:///{elsewhere / 'ivr.db'}"
    done = subprocess.run([sys.executable, "-m", "ivr.cli",
                           *[str(flow) if a == "FLOW" else a for a in args]],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(folder.iterdir()) == []


def test_ivr_audit_on_the_embedded_default_leaves_no_redis_running(tmp_path: Path) -> None:
    """`ivr audit` starts the embedded Redis to read the call-takers' last changes when nothing
    serves: it must stop it again (it was left running for good)."""
    psutil = pytest.importorskip("psutil")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IVR_") or k == "IVR_RUNTIME_DIR"}  # (no server found elsewhere)
    env["PYTHONPATH"] = str(Path(ivr.__file__).parents[1])
    done = subprocess.run([sys.executable, "-m", "ivr.cli", "db", "upgrade"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-m", "ivr.cli", "audit"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 violation(s)" in done.stdout
    left = []
    for p in psutil.process_iter(["name"]):
        try:
            if "redis" in (p.info["name"] or "") and str(tmp_path) in p.cwd():
                left.append(p)
        except psutil.Error:
            continue
    assert not left, f"left running: {left}"
