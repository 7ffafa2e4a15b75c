"""Running the web application: the listening socket, connection limits, and what the server logs.

A careless or hostile client must not exhaust the daemon: a connection that sends no complete request
within ``idle_timeout`` (30 s) is closed, and at most ``max_connections`` are open at once (a new one
beyond that gets a 503 and is closed at once, before it costs a file descriptor for long). The cap stays
below the process's open-file limit (raised to its hard limit at start) so accept() never fails for want
of descriptors, which asyncio would log as a traceback for every attempt. The server's error logs are
redacted (sendsms carries passwords in its query), a malformed request is logged as one line, and
repeated lines are rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from modembridge.config import parse_listen

from .common import BODY_TIMEOUT, CONFIG

log = logging.getLogger("modembridge.http")

IDLE_TIMEOUT = 30.0  # seconds a connection may stay open without a complete request (or between requests)
MAX_CONNECTIONS = 512  # open connections at most; the RapidSMS site and curl need a handful
FD_RESERVE = 128  # descriptors kept for the journal, serial ports and outgoing requests
LOG_WINDOW = 60.0  # seconds: a repeated log line is shown once per window, with a count of the others
_REFUSED = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class AccessLogger(AbstractAccessLogger):
    """Access log without query strings: sendsms carries passwords and message text there."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %d %.3fs", request.remote, request.method, request.path, response.status, time
        )


_SECRET_PARAM = re.compile(r"((?:password|pass|api_token|token)=)[^&\s'\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask credential parameters (``password=``, ``pass=``, ...) in a request line or URL."""
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """aiohttp logs a malformed request with its request line (and so the sendsms password): mask it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.args:
            record.msg, record.args = record.getMessage(), None
        record.msg = redact(str(record.msg))
        return True


class OneLineBadRequests(logging.Filter):
    """A malformed request (not HTTP, a bad header) is the client's problem: one WARNING line with the
    reason instead of aiohttp's ERROR with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            reason = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
            record.msg, record.args = f"{record.getMessage()}: bad request: {reason[:120]}", None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RateLimit(logging.Filter):
    """The same line (logger, level, message) at most once per `window` seconds; the next one shown says
    how many were left out. Keeps a flood of client errors from filling a Pi's SD card."""

    def __init__(self, window: float = LOG_WINDOW, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}  # key -> (shown at, left out since)

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage()[:200])  # who and what, not the template
        now = self._clock()
        shown, left_out = self._last.get(key, (-self.window, 0))
        if now - shown < self.window:
            self._last[key] = (shown, left_out + 1)
            return False
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out} more like it in the last {now - shown:.0f}s)"
            record.args = None
        self._last[key] = (now, 0)
        if len(self._last) > 1000:  # forget the oldest keys: the table must not grow without bound
            for old in sorted(self._last, key=lambda k: self._last[k][0])[:500]:
                del self._last[old]
        return True


def _install_log_filters() -> None:
    chains: dict[str, tuple[type[logging.Filter], ...]] = {
        "aiohttp.server": (RedactSecrets, OneLineBadRequests, RateLimit),
        "aiohttp.web": (RedactSecrets, RateLimit),
        "aiohttp.access": (RedactSecrets,),
        "asyncio": (RateLimit,),  # "socket.accept() out of system resource" and friends
        "modembridge.http": (RateLimit,),  # refused connections, failed logins, rejected sends
    }
    for name, kinds in chains.items():  # fresh ones per server: a rate limit starts from nothing
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if type(f) in kinds]:
            logger.removeFilter(old)
        for kind in kinds:
            logger.addFilter(kind())


def connection_cap(wanted: int, limits: tuple[int, int] | None = None) -> int:
    """At most `wanted` connections, and few enough to leave FD_RESERVE descriptors of the open-file limit
    (raised to the hard limit first when allowed). `limits`: (soft, hard) instead of the process's own."""
    if limits is None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and soft < hard:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
        limits = (soft, hard)
    soft = limits[0]
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


class _Refuse(asyncio.Protocol):
    """One connection too many: a 503 and close, without reading anything."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_REFUSED)
        transport.close()


class CappedSite(web.BaseSite):
    """A TCP site whose server accepts at most `cap` connections at once."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, cap: int) -> None:
        super().__init__(runner)
        self._host, self._port, self._cap = host, port, cap

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= self._cap:
                log.warning("connection refused: %d connections open (the cap)", self._cap)
                return _Refuse()
            return server()

        self._server = await asyncio.get_running_loop().create_server(protocol, self._host, self._port)


async def start_server(app: web.Application, listen: str, *, idle_timeout: float = IDLE_TIMEOUT,
                       max_connections: int = MAX_CONNECTIONS) -> web.AppRunner:
    """Start serving `app` on `listen`; the caller awaits ``runner.cleanup()`` to stop.
    ``runner.addresses`` gives the bound address (useful with port 0)."""
    host, port = parse_listen(listen)
    _install_log_filters()
    app[BODY_TIMEOUT] = idle_timeout  # a body, too, must arrive within it
    # a GET sendsms carries the whole text in its request line: allow it as much as a POST body
    line = max(8190, app[CONFIG].http.max_body_bytes)
    # lingering_time: after an early answer (408, 413), the rest of a body is read for at most this long
    runner = web.AppRunner(app, access_log_class=AccessLogger, max_line_size=line, max_field_size=8190,
                           keepalive_timeout=idle_timeout, lingering_time=min(1.0, idle_timeout))
    await runner.setup()
    cap = connection_cap(max_connections)
    if cap < max_connections:
        log.warning("at most %d HTTP connections: the open-file limit is low (raise LimitNOFILE)", cap)
    site = CappedSite(runner, host, port, cap=cap)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("HTTP server listening on %s", ", ".join(str(a) for a in runner.addresses))
    return runner
