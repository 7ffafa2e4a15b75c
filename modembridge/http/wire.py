"""HTTP/1.1 for the daemon's own requests (router, dlr-url, call_url), sans-I/O: the bytes of a request,
and a reader of the answer on top of httptools (llhttp, the parser of Node.js).

The requests are few and all of one kind — a GET or a POST with a small body, no redirect followed, only
the status, a header or two and the start of the body kept — so they are written here directly. On the
inbound path's critical hop aiohttp's client took 1.4x the time of this one with cold caches (a round
trip 0.87-0.93 against 0.62-0.66 ms) and 1.5-4x warm (docs/benchmarks.md).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping

import httptools
from yarl import URL

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = frozenset("\r\n\0")
USER_AGENT = "modembridge"


class HttpProtocolError(ValueError):
    """The answer is not valid HTTP/1.1, or a request cannot be written (a CR or LF in a header)."""


Origin = tuple[str, str, int]  # (scheme, host, port): what a connection is kept for
_ABSOLUTE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)([^#]*)")


def split_url(url: str) -> tuple[Origin, str, str]:
    """An absolute, already encoded http(s) URL as (origin, the lines every request to that origin
    carries, the request target). The origin part is parsed once per distinct origin, not per request."""
    m = _ABSOLUTE.fullmatch(url.partition("#")[0])
    if m is None:
        raise HttpProtocolError("not an absolute http(s) URL")
    base, target = m.group(1), m.group(2) or "/"
    if not target.startswith("/"):
        target = "/" + target  # "http://host?q" asks for "/?q"
    if not url.isascii() or not url.isprintable() or " " in url:
        raise HttpProtocolError("a space, control or non-ASCII character in the URL (it must be encoded)")
    key, head = _origin(base)
    return key, head, target


@functools.lru_cache(maxsize=64)
def _origin(base: str) -> tuple[Origin, str]:
    url = URL(base, encoded=True)
    scheme, host = url.scheme, (url.raw_host or "").lower()
    if scheme not in _DEFAULT_PORTS:
        raise HttpProtocolError(f"not an http(s) URL: {scheme!r}")
    if not host:
        raise HttpProtocolError("URL without a host")
    port = url.port or _DEFAULT_PORTS[scheme]
    authority = f"[{host}]" if ":" in host else host  # an IPv6 literal
    if port != _DEFAULT_PORTS[scheme]:
        authority = f"{authority}:{port}"
    lines = [f"Host: {authority}", f"User-Agent: {USER_AGENT}"]
    if url.user is not None:
        userinfo = f"{url.user}:{url.password or ''}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(userinfo).decode("ascii"))
    if any(not _FORBIDDEN.isdisjoint(line) for line in lines):
        raise HttpProtocolError("a CR, LF or NUL in the URL's host or credentials")
    return (scheme, host, port), "".join(f"{line}\r\n" for line in lines)


def encode_request(method: str, url: str, headers: Mapping[str, str],
                   body: bytes | None) -> tuple[Origin, bytes]:
    """Where the request goes, and its bytes: request line, Host (and Authorization from user:password
    in the URL), the given headers, Content-Length when there is a body. `url` is absolute and already
    encoded. Raises HttpProtocolError for a URL or header that would split the request."""
    key, head, target = split_url(url)
    lines = [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    if any(not _FORBIDDEN.isdisjoint(line) for line in lines) or any(
            not name or " " in name or ":" in name for name in headers):
        raise HttpProtocolError("a CR, LF or NUL in a header")
    text = f"{method} {target} HTTP/1.1\r\n{head}" + "".join(f"{line}\r\n" for line in lines) + "\r\n"
    return key, text.encode("latin-1") + (body or b"")


class ResponseReader:
    """Reads one answer fed in pieces: `status`, `headers` (names in lower case, the first of each),
    the first `keep` bytes of the body, `complete` once it ended, `reusable` if the connection may carry
    the next request. Interim (1xx) answers are skipped. HttpProtocolError for bytes that are not HTTP."""

    def __init__(self, keep: int = 0) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.body_bytes = 0
        self.complete = False
        self.reusable = False
        self.started = False  # any byte of an answer arrived (else a stale connection's request may go again)
        self._keep = keep
        self._parser = httptools.HttpResponseParser(self)

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self.started = True
        if self.complete:
            raise HttpProtocolError("bytes after the end of the answer")
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            raise HttpProtocolError("the server switched protocols") from exc
        except httptools.HttpParserError as exc:
            raise HttpProtocolError(f"not an HTTP/1.1 answer: {exc}") from exc

    def feed_eof(self) -> None:
        """The server closed the connection: the end of an answer whose body runs until the close; an
        error if the answer was cut short."""
        if self.complete:
            return
        if self.status and "content-length" not in self.headers and not self._chunked():
            self.complete, self.reusable = True, False
            return
        raise HttpProtocolError("connection closed before the answer was complete")

    def _chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    # --- httptools callbacks ---------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        if len(self.body) < self._keep:
            self.body += body[: self._keep - len(self.body)]

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # interim: the real answer follows on the same connection
            self.status, self.headers = 0, {}
            return
        self.complete = True
        self.reusable = self._parser.should_keep_alive()
