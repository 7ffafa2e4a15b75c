"""The daemon's HTTP client for its own requests (router, dlr-url, call_url): HTTP/1.1 over asyncio
connections kept alive per origin, TLS with the system's trust store, one deadline per request. It never
follows a redirect and keeps only the status, the headers and the start of the body (http/wire.py).

A request that meets a kept connection the server had closed (it answered nothing) goes again, once, on
a new connection, as browsers do; any other failure is the caller's to classify (OSError, TimeoutError,
HttpProtocolError).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from .wire import HttpProtocolError, Origin, ResponseReader, encode_request

MAX_BODY = 1 << 20  # bytes of an answer read to keep its connection; a longer one closes it
IDLE_PER_ORIGIN = 8  # connections kept open per origin between requests


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes  # the start of the body, as much as asked for


class _Stale(Exception):
    """A kept connection was closed by the server before it answered anything."""


class _Connection(asyncio.Protocol):
    """One connection; carries one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._reader: ResponseReader | None = None
        self._done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader, done = self._reader, self._done
        if reader is None or done is None or done.done():
            self.close()  # bytes nobody asked for: this connection is out of step
            return
        try:
            reader.feed(data)
        except HttpProtocolError as exc:
            done.set_exception(exc)
            self.close()
            return
        if reader.complete or reader.body_bytes > MAX_BODY:
            done.set_result(None)

    def eof_received(self) -> bool:
        self.closed = True  # not taken for another request while the transport closes
        self._ended(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._ended(exc)

    def _ended(self, exc: Exception | None) -> None:
        reader, done = self._reader, self._done
        if reader is None or done is None or done.done():
            return
        if not reader.started:
            done.set_exception(_Stale())
            return
        try:
            if exc is not None:
                raise ConnectionResetError(f"connection lost: {exc}")
            reader.feed_eof()
        except (OSError, HttpProtocolError) as error:
            done.set_exception(error)
        else:
            done.set_result(None)

    async def exchange(self, request: bytes, keep: int) -> ResponseReader:
        assert self.transport is not None
        self._reader = reader = ResponseReader(keep)
        self._done = done = asyncio.get_running_loop().create_future()
        try:
            self.transport.write(request)
            await done
        finally:
            self._reader = self._done = None
        return reader

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class HttpTransport:
    """Keep-alive HTTP/1.1 requests; `close()` ends every kept connection."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, idle_per_origin: int = IDLE_PER_ORIGIN) -> None:
        self._tls = tls
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_per_origin = idle_per_origin

    async def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, *,
                      timeout: float, keep: int = 0) -> HttpAnswer:
        """Send the request and read the answer within `timeout` seconds (connecting included). `url`:
        absolute and already encoded (sent as it is)."""
        key, data = encode_request(method, url, headers, body)
        async with asyncio.timeout(timeout):
            while True:
                conn = self._take(key)
                reused = conn is not None
                if conn is None:
                    conn = await self._connect(key)
                try:
                    reader = await conn.exchange(data, keep)
                except _Stale:
                    conn.close()
                    if reused:
                        continue  # the server closed it while it was idle: once more, on a new one
                    raise ConnectionResetError("connection closed before any answer") from None
                except BaseException:
                    conn.close()
                    raise
                break
        if reader.complete and reader.reusable and not conn.closed:
            self._keep(key, conn)
        else:
            conn.close()
        return HttpAnswer(reader.status, reader.headers, reader.body)

    def _take(self, key: Origin) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    def _keep(self, key: Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < self._idle_per_origin:
            idle.append(conn)
        else:
            conn.close()

    async def _connect(self, key: Origin) -> _Connection:
        scheme, host, port = key
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, host, port, ssl=tls,
                                               server_hostname=host if tls is not None else None)
        return conn

    async def __aenter__(self) -> HttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
