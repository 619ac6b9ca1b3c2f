"""Log lines a request cannot forge: CR/LF, NUL and other controls are logged escaped."""

from __future__ import annotations

import logging

import pytest

from ivr.platform.logsafe import escape


def test_escape_writes_controls_visibly() -> None:
    assert escape("CA1\r\n2026 ERROR forged\x00\x1b[31m") == \
        "CA1\\r\\n2026 ERROR forged\\x00\\x1b[31m"
    assert escape("a\u2028b\x85c\x7f") == "a\\u2028b\\x85c\\x7f"
    assert escape("Zoë +1 (410) 555-0100") == "Zoë +1 (410) 555-0100"


def _records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(message, the whole record as a handler writes it, traceback included) of ivr's records."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    return [(r.getMessage(), handler.format(r)) for r in caplog.records
            if r.name.startswith("ivr")]


HOSTILE = "CA1\r\n2026-11-23 15:00:00 ERROR ivr.security forged line\x00\x1b]0;x\x07"


def test_signed_callsid_with_crlf_is_logged_on_one_line(signed_post, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="ivr")  # an in-process `ivr demo` quiets it
    params = {"CallSid": HOSTILE, "AccountSid": "AC" + "0" * 32, "From": "+14105550100",
              "To": "+14435550311", "CallStatus": "in-progress", "Direction": "inbound"}
    assert signed_post("/voice/incoming", params).status_code == 200
    records = _records(caplog)
    assert any("forged line" in message for message, _ in records), records
    for message, written in records:
        assert "\n" not in message and "\r" not in message
        # a traceback (PostgreSQL refuses the NUL: the failure is logged) has lines of its
        # own, but none the request wrote
        assert "\x00" not in written and "\x1b" not in written
        assert not any(line.startswith("2026-11-23") for line in written.splitlines())
    assert any("CA1\\r\\n2026-11-23" in message for message, _ in records)


def test_exception_messages_are_escaped_in_tracebacks(app, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="ivr")  # an in-process `ivr demo` quiets it
    try:
        raise ValueError("bad CallSid " + HOSTILE)
    except ValueError:
        logging.getLogger("ivr.calls").exception("webhook failed for %s", HOSTILE)
    (record,) = [r for r in caplog.records if r.name == "ivr.calls"]
    text = logging.Formatter().format(record)
    last = text.splitlines()[-1]
    assert last.startswith("ValueError: bad CallSid CA1\\r\\n2026")
    assert "\x00" not in text
    assert not any(line.startswith("2026-11-23") for line in text.splitlines())
