"""The seam between the emulator and the app: one method, `Transport.request`.

The emulator talks to the app only through a transport, exactly as Twilio does over the internet.
`WSGITransport` calls a WSGI app in-process (fast, for tests and the demo) while keeping the
scheme and host of the URL, so that the app can validate `X-Twilio-Signature` against its
configured public URL. `HTTPTransport` makes real HTTP requests with Twilio's time limits.

A transport raises `TransportTimeout` when the whole response took longer than its `timeout`
(Twilio: 15 s, error 11205) and `TransportError` when the app could not be reached
(11205, "HTTP connection failure").
Any HTTP status, 5xx included, is a `Response`: deciding what it means is the emulator's job
(a status outside 2xx is Twilio's 11200, "HTTP retrieval failure").
"""

from __future__ import annotations

import io
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote_plus, unquote_to_bytes, urlsplit

import requests

Params = Mapping[str, "str | list[str]"]

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Response:
    """What came back: status code, the Content-Type header as sent, and the raw body."""

    status: int
    content_type: str
    body: bytes
    error: str | None = None  # the app's traceback when an in-process app raised

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case (``text/xml``)."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class TransportError(Exception):
    """The app could not be reached (Twilio error 11205)."""

    code = 11205


class TransportTimeout(TransportError):
    """The response did not arrive in time (Twilio error 11205)."""

    code = 11205


class Transport(Protocol):
    """Send one HTTP request to the app.

    `params` are form parameters: the body of a POST, appended to the query string of a GET.
    A value that is a list is sent as that parameter repeated.
    """

    def request(
        self, method: str, url: str, params: Params, headers: Mapping[str, str]
    ) -> Response: ...


def form_pairs(params: Params) -> list[tuple[str, str]]:
    """Flatten params into (name, value) pairs; list values become repeated names."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, str):
            pairs.append((name, value))
        else:
            pairs.extend((name, v) for v in value)
    return pairs


_quote = lru_cache(maxsize=1 << 16)(quote_plus)  # the same sids and numbers recur all day


def form_encode(params: Params) -> str:
    """`application/x-www-form-urlencoded`, as `urlencode` would, with a cache for the values."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in form_pairs(params))


def with_query(url: str, params: Params) -> str:
    """`url` with `params` appended to its query string (how a GET carries them)."""
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + form_encode(params)


class WSGITransport:
    """Call a WSGI app in-process, as if over HTTP at the URL's scheme and host.

    The app sees ``https://ivr.example.org/voice/incoming`` as its request URL when the emulator
    requests that URL, whatever the app's own notion of its host. `timeout` applies after the
    fact: a response that took longer (in real time) is dropped like Twilio drops it.
    An exception escaping the app becomes a 500 whose `error` holds the traceback.
    The WSGI environ is built directly (not with werkzeug's EnvironBuilder): a simulated
    311 day makes tens of thousands of these requests.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], timeout: float = 15.0) -> None:
        self.app = app
        self.timeout = timeout

    def request(
        self, method: str, url: str, params: Params, headers: Mapping[str, str]
    ) -> Response:
        method = method.upper()
        if method == "GET":
            url, body = with_query(url, params), b""
        else:
            body = form_encode(params).encode()
        environ = _environ(method, url, body, headers)
        reply: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            reply[:] = [status, response_headers]
            return chunks.append

        chunks: list[bytes] = []
        started = time.perf_counter()
        try:
            app_iter = self.app(environ, start_response)
            try:
                chunks.extend(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except Exception:  # noqa: BLE001 - an app crash is a 500, as a real server would answer
            return Response(500, "text/plain", b"Internal Server Error", traceback.format_exc())
        if time.perf_counter() - started > self.timeout:
            raise TransportTimeout(f"no response from {url} within {self.timeout} s")
        status, response_headers = reply
        content_type = next((v for k, v in response_headers if k.lower() == "content-type"), "")
        return Response(int(status.split(" ", 1)[0]), content_type, b"".join(chunks))


def _environ(method: str, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """A PEP 3333 environ for one request to `url` (scheme and host kept as the app's view)."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_TYPE"] = FORM
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


class HTTPTransport:
    """Real HTTP with keep-alive; Twilio's limits: connect 10 s, whole response 15 s."""

    def __init__(self, connect_timeout: float = 10.0, timeout: float = 15.0) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.session = requests.Session()

    def request(
        self, method: str, url: str, params: Params, headers: Mapping[str, str]
    ) -> Response:
        method = method.upper()
        pairs = form_pairs(params)
        started = time.perf_counter()
        try:
            if method == "GET":
                resp = self.session.request(
                    method, with_query(url, params), headers=dict(headers),
                    timeout=(self.connect_timeout, self.timeout), allow_redirects=False,
                )
            else:
                resp = self.session.request(
                    method, url, data=pairs, headers=dict(headers),
                    timeout=(self.connect_timeout, self.timeout), allow_redirects=False,
                )
        except requests.Timeout as exc:
            raise TransportTimeout(str(exc)) from exc
        except requests.RequestException as exc:
            raise TransportError(str(exc)) from exc
        if time.perf_counter() - started > self.timeout:
            raise TransportTimeout(f"no response from {url} within {self.timeout} s")
        return Response(resp.status_code, resp.headers.get("Content-Type", ""), resp.content)

    def close(self) -> None:
        self.session.close()
