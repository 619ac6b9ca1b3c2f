"""`ivr flows list|export|import|publish|rollback|diff|history` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from tests.ivr.flow_support import MAIN_EN, TEXT_311, edited, line_of


@pytest.fixture
def cli(tmp_path: Path, monkeypatch) -> CliRunner:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("IVR_CONFIG", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(main, ["flows", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_export_edit_import_publish_diff_rollback(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "list").splitlines()[0].startswith("311\tv1\tdraft r1 by system")
    exported = tmp_path / "311.yaml"
    run(cli, "export", "311", "-o", str(exported))
    assert exported.read_text("utf-8") == TEXT_311

    broken = edited("      1: report\n", "      1: reprot\n")
    exported.write_text(broken, "utf-8")
    out = run(cli, "import", str(exported), "--as", "sup-ana", code=1)
    assert f"{exported}:{line_of(broken, '1: reprot')}: menu 'main': key 1 goes to 'reprot'" in out
    assert "saved as the draft of flow 311 (revision 2, 1 problem(s))" in out
    refused = run(cli, "publish", "311", code=1)
    assert "311.yaml:" in refused and "was not published" in refused
    assert "v1" in run(cli, "list")

    exported.write_text(edited(MAIN_EN, "Press 1 to report a problem."), "utf-8")
    out = run(cli, "publish", "311", "--file", str(exported), "--note", "shorter", "--as",
              "sup-ana")
    assert "flow 311: version 2 is live (version 1 -> version 2 (live): 1 line(s) added, " \
           "1 removed)" in out
    diff = run(cli, "diff", "311", "1", "2")
    assert f"-        {MAIN_EN}" in diff and "+Press 1" not in diff
    assert "+        Press 1 to report a problem." in diff
    assert run(cli, "export", "311", "--version", "1") == TEXT_311
    assert run(cli, "rollback", "311").strip() == "flow 311: version 1 is live again"
    assert "version 1 of flow '311' is already live" in run(cli, "rollback", "311", "--to", "1",
                                                          code=1)
    history = run(cli, "history", "311")
    assert "v2\t" in history and "v1 (live)" in history
    assert "\tsup-ana\tpublish\t" in history and "rollback" in history


def test_a_new_flow_is_imported_as_a_draft_and_published_as_version_1(
        cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "closure.yaml"
    path.write_text("flow: closure\nlanguages: {en: en-US}\nstart: bye\nnodes:\n"
                    "  bye:\n    kind: hangup\n    say: City offices are closed today.\n", "utf-8")
    assert "saved as the draft of flow closure (revision 1, 0 problem(s))" in run(
        cli, "import", str(path))
    assert "closure\tnothing live" in run(cli, "list")
    assert "flow closure: version 1 is live" in run(cli, "publish", "closure")
    assert "no version before 1" in run(cli, "rollback", "closure", code=1)
    assert "there is no flow 'nope'" in run(cli, "export", "nope", code=1)


def test_a_storm_message_from_the_shell(cli: CliRunner) -> None:
    on = run(cli, "announce", "311", "--text", "en=Offices are closed today.", "--text",
             "es=Las oficinas están cerradas hoy.", "--as", "sup-ana")
    assert on.strip() == "line 311: the message is on for every new call"
    missing = run(cli, "announce", "311", "--text", "en=Closed.", code=1)
    assert "es is missing" in missing
    assert "no line '999'" in run(cli, "announce", "999", "--off", code=1)
    assert run(cli, "announce", "311", "--off").strip() == "line 311: the message is off"
    assert "(it was not on)" in run(cli, "announce", "311", "--off")
