"""Every `ivr` command typed in a terminal, in an empty folder: it works, or it says in one
sentence what to do, never a traceback; and it leaves no process behind (no redis-server
serving the folder, no child). Each command runs as a user runs it: a subprocess whose working
directory is the empty folder, with no IVR_* setting but a runtime folder of the test's own (so
no `ivr serve` elsewhere on the machine is found) and a temporary directory inside the test's
folder (so a sandbox's folder is seen too)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
import requests

import ivr
from ivr.platform.config import load_settings
from ivr.platform.floor_config import queue_classes
from queues import Queues
from tests.e2e.helpers import wait_for

ROOT = Path(ivr.__file__).resolve().parents[1]
FLOW = ROOT / "ivr" / "flows" / "311.yaml"
PASSWORD = "a-long-enough-password\n"


def user_env(test_dir: Path, **extra: str) -> dict[str, str]:
    """A terminal's environment: nothing of the center's configured, the runtime and
    temporary folders the test's own (in `test_dir`, beside the folders commands run in)."""
    (test_dir / ".rt").mkdir(mode=0o700, exist_ok=True)
    (test_dir / ".tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update(PYTHONPATH=str(ROOT), IVR_RUNTIME_DIR=str(test_dir / ".rt"),
               TMPDIR=str(test_dir / ".tmp"), **extra)
    return env


def ivr_cmd(args: list[str], cwd: Path, env: dict[str, str], stdin: str = "",
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "ivr.cli", *args], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def one_sentence(done: subprocess.CompletedProcess[str]) -> str:
    """The error a command refused with: exit status 2 and one line (`Error: ...`)."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


# Children this test process had before each test (a session's embedded Redis is one).
_BEFORE: set[int] = set()


def left_behind(folder: Path) -> list[str]:
    """redis-server processes (or any other) serving `folder`: working directory, socket or
    data inside it; and children this test process started and are still running."""
    found = []
    for p in psutil.process_iter(["name", "cmdline", "cwd"]):
        try:
            cmdline = " ".join(p.info["cmdline"] or [])
            inside = str(folder) in (p.info["cwd"] or "") or str(folder) in cmdline
            if inside and p.pid != os.getpid():
                found.append(f"{p.pid} {p.info['name']} {cmdline}")
        except psutil.Error:
            continue
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid not in _BEFORE:
                found.append(f"child {child.pid} {' '.join(child.cmdline())}")
        except psutil.Error:
            continue
    return found


@pytest.fixture(autouse=True)
def _children_before() -> None:
    _BEFORE.clear()
    _BEFORE.update(children())


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "empty"
    folder.mkdir()
    yield folder
    assert left_behind(tmp_path) == []


# (arguments, standard input, what the output shows when it worked)
WORKS = {
    "help": (["--help"], "", "audit"),
    "db upgrade": (["db", "upgrade"], "", "schema at head"),
    "flows validate": (["flows", "validate", str(FLOW)], "", "1 flow file(s) OK"),
    "flows list": (["flows", "list"], "", "311\tv1"),
    "flows export": (["flows", "export", "311"], "", "flow:"),
    "flows import": (["flows", "import", str(FLOW)], "", "saved as the draft of flow 311"),
    "flows diff": (["flows", "diff", "311"], "", "same"),
    "flows history": (["flows", "history", "311"], "", "v1 (live)"),
    "flows announce": (["flows", "announce", "311", "--off"], "", "the message is off"),
    "call": (["call", "311"], "h\n", "-- call completed"),
    "call --at": (["call", "311", "--at", "2026-11-22T11:00"], "2\n\nh\n", "está cerrado"),
    "agents add": (["agents", "add", "maria", "--name", "Maria Lopez", "--password-stdin"],
                   PASSWORD, "added maria"),
    "agents list": (["agents", "list"], "", ""),
    "worker --burst": (["worker", "--burst"], "", ""),
    "audit": (["audit"], "", "0 violation(s)"),
    "staffing": (["staffing", "--calls", "360", "--interval", "1800", "--aht", "240",
                  "--target", "20", "--agents", "55"], "", "service level"),
    "demo": (["demo", "--calls", "2", "--agents", "1", "--hours", "10-11"], "",
             "audit: 0 violation(s)"),
}

# Commands that cannot do what was asked in an empty center: one sentence, exit status 1
# (what was asked cannot be done) or 2 (the command cannot work here).
SAYS = {
    "flows publish": (["flows", "publish", "311"], "nothing", 1),
    "flows rollback": (["flows", "rollback", "311"], "version", 1),
    "agents set": (["agents", "set", "nobody", "--name", "X"], "nobody", 1),
    "agents disable": (["agents", "disable", "nobody"], "nobody", 1),
    "call 411": (["call", "411"], "no line '411'", 1),
    "db upgrade --revision": (["db", "upgrade", "--revision", "nope"], "nope", 2),
}


@pytest.mark.parametrize("name", list(WORKS))
def test_each_command_works_in_an_empty_folder_and_leaves_no_process(empty: Path,
                                                                     name: str) -> None:
    args, stdin, shown = WORKS[name]
    done = ivr_cmd(args, empty, user_env(empty.parent), stdin,
                   timeout=600 if name == "demo" else 180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert shown in done.stdout
    assert list((empty.parent / ".tmp").iterdir()) == []  # no sandbox or demo folder left


@pytest.mark.parametrize("name", list(SAYS))
def test_a_command_that_cannot_do_it_says_why_in_one_line(empty: Path, name: str) -> None:
    args, said, status = SAYS[name]
    done = ivr_cmd(args, empty, user_env(empty.parent), "h\n")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == status and len(lines) == 1 and lines[0].startswith("Error: "), \
        done.stdout + done.stderr
    assert said in lines[0]


DATA_COMMANDS = {
    "db upgrade": ["db", "upgrade"], "flows list": ["flows", "list"],
    "agents list": ["agents", "list"], "audit": ["audit"], "call": ["call"],
    "worker": ["worker", "--burst"], "serve": ["serve", "--port", "0"],
}


@pytest.mark.parametrize("name", list(DATA_COMMANDS))
def test_a_data_folder_that_cannot_be_made_is_one_sentence(empty: Path, name: str) -> None:
    blocker = empty / "a-file"
    blocker.write_text("")
    done = ivr_cmd(DATA_COMMANDS[name], empty,
                   user_env(empty.parent, IVR_DATA_DIR=str(blocker / "var")), "h\n")
    said = one_sentence(done)
    assert "--data-dir" in said and str(blocker / "var") in said


@pytest.mark.parametrize("name", ["db upgrade", "flows list", "agents list", "audit"])
def test_a_database_that_does_not_answer_is_one_sentence_without_its_password(
        empty: Path, name: str) -> None:
    url = f"postgresql+psycopg://someone:secret@127.0.0.1:{_closed_port()}/center"
    done = ivr_cmd(DATA_COMMANDS[name], empty, user_env(empty.parent, IVR_DATABASE_URL=url))
    said = one_sentence(done)
    assert "cannot use the database" in said and "secret" not in said


@pytest.mark.parametrize("name", ["call", "worker"])
def test_a_redis_that_does_not_answer_is_one_sentence(empty: Path, name: str) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    done = ivr_cmd(DATA_COMMANDS[name], empty, user_env(empty.parent, IVR_REDIS_URL=url), "h\n")
    assert "cannot reach Redis" in one_sentence(done)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_data_dir_option_and_environment_choose_the_folder(empty: Path) -> None:
    elsewhere = empty.parent / "center"
    ivr_cmd(["agents", "add", "ana", "--name", "Ana", "--password-stdin", "--data-dir",
             str(elsewhere)], empty, user_env(empty.parent), PASSWORD)
    assert (elsewhere / "ivr.db").is_file() and list(empty.iterdir()) == []
    listed = ivr_cmd(["agents", "list"], empty, user_env(empty.parent, IVR_DATA_DIR=str(elsewhere)))
    assert listed.stdout.startswith("ana ")


def test_with_two_centers_running_a_command_asks_which(empty: Path) -> None:
    """Two `ivr serve` announced on two folders (stood in for by two processes of that name):
    a command with no folder of its own asks for one; a dead server's announcement is ignored
    and removed."""
    env = user_env(empty.parent)
    runtime = Path(env["IVR_RUNTIME_DIR"])
    servers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "ivr"])
               for _ in range(2)]
    try:
        for n, proc in enumerate(servers):
            (runtime / f"serve-{proc.pid}.json").write_text(json.dumps(
                {"pid": proc.pid, "data_dir": str(empty.parent / f"center{n}"),
                 "public_url": "http://127.0.0.1:8000"}))
        said = one_sentence(ivr_cmd(["agents", "list"], empty, env))
        assert "2 `ivr serve` are running" in said and "--data-dir" in said
        servers[1].kill()
        servers[1].wait()
        done = ivr_cmd(["agents", "list"], empty, env)
        assert done.returncode == 0 and str(empty.parent / "center0") in done.stderr
        assert (empty.parent / "center0" / "ivr.db").is_file()
        assert [p.name for p in runtime.iterdir()] == [f"serve-{servers[0].pid}.json"]
    finally:
        for proc in servers:
            proc.kill()
            proc.wait()
    assert list(empty.iterdir()) == []




@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_a_call_interrupted_or_killed_leaves_no_redis(empty: Path, sig: int) -> None:
    """Ctrl-C (the terminal's SIGINT to the command's process group) ends the call and stops
    the Redis it started; a command killed outright takes that Redis with it (the kernel's
    parent-death signal), without its own clean-up."""
    caller = subprocess.Popen([sys.executable, "-m", "ivr.cli", "call", "311"], cwd=empty,
                              env=user_env(empty.parent), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    wait_for(lambda: (empty / "var" / "redis.url").exists(), 60, "the call's Redis started")
    os.killpg(caller.pid, sig)
    out, err = caller.communicate(timeout=120)
    assert b"Traceback" not in out + err, (out + err).decode()
    wait_for(lambda: left_behind(empty.parent) == [], 20, "no process left")


# -- with a center running ------------------------------------------------------------------

@dataclass
class Center:
    proc: subprocess.Popen[bytes]
    folder: Path
    base: str
    env: dict[str, str]

    @property
    def data_dir(self) -> Path:
        return self.folder / "var"

    def calls(self) -> int:
        with sqlite3.connect(self.data_dir / "ivr.db") as db:
            return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])

    def waiting(self) -> int:
        settings = load_settings(env={})
        client = redis.Redis.from_url((self.data_dir / "redis.url").read_text().strip(),
                                      decode_responses=True)
        try:
            stats = Queues(client, settings.center, queue_classes(settings)).stats(time.time())
            return sum(s.size for s in stats.values())
        finally:
            client.close()


def _up(base: str, proc: subprocess.Popen[bytes]) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        assert proc.poll() is None, "ivr serve ended"
        return False


@pytest.fixture
def center(tmp_path: Path) -> Iterator[Center]:
    """`ivr serve` in a folder of its own, as a user starts it (no settings but the port)."""
    folder = tmp_path / "center"
    folder.mkdir()
    env = user_env(tmp_path)
    port = _closed_port()
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--port", str(port),
                             "--workers", "1", "--threads", "4"], cwd=folder, env=env,
                            stdout=(folder / "serve.log").open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not _up(base, proc):
        assert time.monotonic() < deadline, (folder / "serve.log").read_text()
        time.sleep(0.1)
    try:
        yield Center(proc, folder, base, env)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        assert left_behind(tmp_path) == []


def test_a_command_in_another_folder_finds_the_running_center(tmp_path: Path,
                                                             center: Center) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = ivr_cmd(["call", "311"], elsewhere, center.env, "h\n")
    assert "-- call completed" in done.stdout
    assert str(center.data_dir) in done.stderr  # it says which center it used
    assert center.calls() == 1
    assert list(elsewhere.iterdir()) == []  # no second, empty center made here


def test_a_trial_call_at_a_pretended_time_leaves_the_running_center_untouched(
        tmp_path: Path, center: Center) -> None:
    """`ivr call --at` runs in a sandbox shaped like the center (its storm message is heard)
    and removed afterwards; the center gets no call, no history, nobody waiting."""
    env = center.env
    said = ivr_cmd(["flows", "announce", "311", "--text", "en=The bridge is closed.",
                    "--text", "es=El puente está cerrado."], tmp_path, env)
    assert "the message is on" in said.stdout
    before = center.calls()
    # A Monday morning next year, open hours: English, then wait in line, then hang up.
    done = ivr_cmd(["call", "311", "--at", "2027-01-04T10:00", "--max-minutes", "3"], tmp_path,
                   env, "1\n0\n\nh\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sandbox" in done.stdout and "The bridge is closed." in done.stdout
    assert "No call-takers are available right now" in done.stdout  # a sandbox has nobody
    assert center.calls() == before
    assert center.waiting() == 0
    with sqlite3.connect(center.data_dir / "ivr.db") as db:
        assert db.execute("SELECT count(*) FROM call_events").fetchone()[0] == 0
    assert list((tmp_path / ".tmp").iterdir()) == []  # the sandbox is gone


def test_ctrl_c_with_clients_connected_leaves_no_process(tmp_path: Path, center: Center) -> None:
    """A terminal's Ctrl-C while a Redis client, a half-sent request and a call from another
    terminal are connected: every part stops, the embedded Redis last, nothing is left."""
    client = redis.Redis.from_url((center.data_dir / "redis.url").read_text().strip())
    client.ping()
    port = int(center.base.rsplit(":", 1)[1])
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the request never ends
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    caller = subprocess.Popen([sys.executable, "-m", "ivr.cli", "call", "311"], cwd=elsewhere,
                              env=center.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    assert caller.stdout is not None and caller.stdin is not None
    assert b"Calling line 311" in caller.stdout.readline() + caller.stdout.readline()
    try:
        os.killpg(center.proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        assert center.proc.wait(60) == 0
    finally:
        client.close()
        half.close()
        caller.stdin.close()
        caller.wait(120)
    assert not (center.data_dir / "redis.url").exists()
    assert list((tmp_path / ".rt").iterdir()) == []  # no longer announced
    shutil.rmtree(elsewhere)
