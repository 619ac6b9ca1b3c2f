"""Finding and using the emulated carrier of a running `ivr serve --emulate`.

The carrier (`ivr.demo.carrier`) writes ``carrier.json`` (its URL and key, mode 0600) in the
data directory while it runs. `ivr call` in another terminal reads it and, when the carrier
answers, places its call there: the call reaches the running center, and the call-takers in
the console can take it. `converse` is that terminal's side of the call.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

MARKER = "carrier.json"
POLL = 0.4  # seconds between looks at the call


def marker_path(data_dir: Path) -> Path:
    return data_dir / MARKER


def read_marker(data_dir: Path) -> dict[str, Any] | None:
    """What ``carrier.json`` says (``url``, ``key``), or None when there is none."""
    try:
        found = json.loads(marker_path(data_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("url") and found.get("key") else None


def write_marker(data_dir: Path, url: str, key: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = marker_path(data_dir)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the key places calls
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": url, "key": key, "pid": os.getpid()}, out)


class CarrierError(Exception):
    """The carrier refused or could not be reached; the message is one sentence."""


@dataclass(frozen=True)
class CarrierClient:
    url: str
    key: str

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = requests.request(method, f"{self.url}/emulator{path}", json=body,
                                      headers={"Authorization": f"Bearer {self.key}"},
                                      timeout=5)
            data = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise CarrierError("the emulated carrier of `ivr serve --emulate` stopped "
                               "answering") from exc
        if answer.status_code >= 400:
            raise CarrierError(str(data.get("error") or f"the carrier answered "
                                                        f"{answer.status_code}"))
        return data


def running_carrier(data_dir: Path) -> CarrierClient | None:
    """The carrier of a running `ivr serve --emulate` on `data_dir`, if one answers."""
    found = read_marker(data_dir)
    if found is None:
        return None
    client = CarrierClient(str(found["url"]), str(found["key"]))
    try:
        client.request("GET", "")
    except CarrierError:
        return None  # a marker left by a carrier that was killed
    return client


def converse(client: CarrierClient, line: str, caller: str, read: Callable[[str], str],
             write: Callable[[str], None], max_minutes: float = 10.0) -> str:
    """Place a call on the running carrier and play the caller from the terminal: print what
    the caller hears, ask for keys when a menu listens (``say <words>``, Enter for silence,
    ``h`` to hang up). Returns the call's final status."""
    placed = client.request("POST", "/calls", {"line": line, "from": caller})
    sid = placed["call"]
    write(f"Calling line {line} ({placed['to']}) on the running center's emulated carrier; "
          "the call-takers signed in to its console can take it. "
          "Type keys (e.g. 1 or 1234#), 'say <words>', Enter for silence, 'h' to hang up.")
    shown, deadline = 0, time.monotonic() + max_minutes * 60
    while True:
        view = client.request("GET", f"/calls/{sid}")
        for entry in view["lines"][shown:]:
            write(f"  {_MARK.get(entry['who'], '')} {entry['text']}")
        shown = len(view["lines"])
        if view["ended"]:
            break
        if time.monotonic() > deadline:
            client.request("POST", f"/calls/{sid}/input", {"hangup": True})
            continue
        listening = view["listening"]
        if listening is None:
            time.sleep(POLL)
            continue
        answer = read("record (Enter to skip)> " if listening["kind"] == "record" else "keys> ")
        text = answer.strip()
        if text.lower() in ("h", "hangup", "q", "quit"):
            body: dict[str, Any] = {"hangup": True}
        elif text.lower().startswith("say "):
            body = {"say": text[4:]}
        elif listening["kind"] == "record" and text:
            body = {"say": text}
        elif text:
            body = {"keys": text}
        else:
            body = {"silence": True}
        try:
            client.request("POST", f"/calls/{sid}/input", body)
        except CarrierError as exc:
            write(f"  ! {exc}")
    write(f"-- call {view['status']}")
    return str(view["status"])


_MARK = {"heard": "\N{SPEAKER WITH THREE SOUND WAVES}", "pressed": "\N{KEYBOARD}",
         "said": "\N{SPEAKING HEAD IN SILHOUETTE}", "call": "\N{MIDDLE DOT}"}
