"""HTTP/1.1 for the daemon's own requests (router, dlr-url, call_url), sans-I/O: the bytes of a request,
and a reader of the answer on top of httptools (llhttp, the parser of Node.js).

The requests are few and all of one kind — a GET or a POST with a small body, no redirect followed, only
the status, a header or two and the start of the body kept — so they are written here directly; aiohttp's
client spent several times the CPU on each, on the inbound path's critical hop (docs/benchmarks.md).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import httptools
from yarl import URL

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = frozenset("\r\n\0")
USER_AGENT = "modembridge"


class HttpProtocolError(ValueError):
    """The answer is not valid HTTP/1.1, or a request cannot be written (a CR or LF in a header)."""


def origin(url: URL) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute http(s) URL: what a connection is kept for."""
    scheme = url.scheme
    if scheme not in _DEFAULT_PORTS:
        raise HttpProtocolError(f"not an http(s) URL: {scheme!r}")
    if not url.raw_host:
        raise HttpProtocolError("URL without a host")
    return scheme, url.raw_host, url.port or _DEFAULT_PORTS[scheme]


def encode_request(method: str, url: URL, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """The request's bytes: request line, Host (and Authorization from user:password in the URL), the
    given headers, Content-Length when there is a body. Raises HttpProtocolError for a header that would
    split the request."""
    scheme, host, port = origin(url)
    target = url.raw_path or "/"
    if url.raw_query_string:
        target += "?" + url.raw_query_string
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}"]
    if url.user is not None:
        userinfo = f"{url.user}:{url.password or ''}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(userinfo).decode("ascii"))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    if any(not _FORBIDDEN.isdisjoint(line) for line in lines) or any(
            not name or " " in name or ":" in name for name in headers):
        raise HttpProtocolError("a CR, LF or NUL in the request line or a header")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


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
