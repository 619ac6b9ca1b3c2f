"""Log lines a request cannot forge.

Values logged by the engine come from requests (a CallSid, a login, a path, an exception's
message): a CR/LF in one would start a forged log line, a NUL or an escape sequence would reach
the file or the terminal. Installed once per process, a record factory escapes every argument of
the records of the loggers named below, and the message of any exception they carry, before any
handler sees them. Message templates are ours and are left as they are.
"""

from __future__ import annotations

import logging
import numbers
import re
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

# Loggers whose records may carry request data: ours, and the web servers' access and error logs.
ESCAPED_LOGGERS = ("ivr", "werkzeug", "gunicorn")

# C0 and C1 controls, DEL, and Unicode's own line and paragraph separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def escape(value: str) -> str:
    """`value` with every control character written as a visible escape (``\\n``, ``\\x00``)."""

    def one(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in _NAMED:
            return _NAMED[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _UNSAFE.sub(one, value)


def _safe_arg(arg: Any) -> Any:
    # Numbers keep their type so `%d` and `%.1f` still format; anything else is what `%s`
    # would print, escaped.
    if arg is None or isinstance(arg, bool | numbers.Number):
        return arg
    return escape(arg if isinstance(arg, str) else str(arg))


def escape_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {key: _safe_arg(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_safe_arg(arg) for arg in args)
    return args


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def exception_text(exc_info: ExcInfo) -> str:
    """The traceback as logging prints it, each exception's own message escaped (the frames
    are our code's, the message may quote a request)."""
    chain: list[tuple[BaseException, str]] = []
    exc: BaseException | None = exc_info[1]
    link = ""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append((exc, link))
        if exc.__cause__ is not None:
            exc, link = exc.__cause__, ("\nThe above exception was the direct cause of the "
                                        "following exception:\n\n")
        elif exc.__context__ is not None and not exc.__suppress_context__:
            exc, link = exc.__context__, ("\nDuring handling of the above exception, another "
                                          "exception occurred:\n\n")
        else:
            exc = None
    parts: list[str] = []
    for exc, link in reversed(chain):
        if exc.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exc.__traceback__))
        only = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
        parts.append(escape(only) + "\n" + link)
    return "".join(parts).rstrip("\n")


def _escaped(record: logging.LogRecord) -> logging.LogRecord:
    name = record.name
    if not any(name == root or name.startswith(root + ".") for root in ESCAPED_LOGGERS):
        return record
    record.args = escape_args(record.args)
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = exception_text(record.exc_info)  # type: ignore[arg-type]
    return record


def install() -> None:
    """Escape the records of `ESCAPED_LOGGERS` in this process (idempotent)."""
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(current, "ivr_escaping", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _escaped(current(*args, **kwargs))

    factory.ivr_escaping = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
