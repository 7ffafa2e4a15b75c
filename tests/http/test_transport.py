"""http/transport.py against real servers on 127.0.0.1: kept connections, a server that closed one,
one that answers nothing or too slowly or too much, and TLS."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from modembridge.http import HttpTransport
from modembridge.http.transport import MAX_BODY

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
ServerFactory = Callable[..., Awaitable[TestServer]]


class RawServer:
    """A TCP server whose every connection runs `serve(reader, writer)`; counts connections."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.serve(reader, writer)
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def url(self, path: str = "/x") -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}{path}"


async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, then_close: bool = False,
                      ) -> None:
    while True:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if then_close:
            return


@pytest.fixture
async def http() -> AsyncIterator[HttpTransport]:
    async with HttpTransport() as transport:
        yield transport


async def test_requests_to_one_origin_share_a_kept_connection(http: HttpTransport) -> None:
    async with RawServer(answer_each) as server:
        for _ in range(3):
            answer = await http.request("GET", server.url(), {}, None, timeout=5, keep=10)
            assert (answer.status, answer.body) == (200, b"ok")
        assert server.connections == 1


async def test_a_kept_connection_the_server_closed_is_replaced_without_an_error(http: HttpTransport) -> None:
    async def close_after_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_each(reader, writer, then_close=True)

    async with RawServer(close_after_one) as server:
        for _ in range(3):
            assert (await http.request("GET", server.url(), {}, None, timeout=5)).status == 200
        assert server.connections == 3


async def test_a_kept_connection_closed_as_the_request_went_out_is_sent_again(http: HttpTransport) -> None:
    """The server closes an idle connection at the moment the next request is written (its close not seen
    yet): nothing was answered on it, so the request goes again on a new connection, once."""
    requests: list[int] = []

    async def answer_then_drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        requests.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read(1)  # the next request is coming: hang up without an answer

    async with RawServer(answer_then_drop) as server:
        assert (await http.request("GET", server.url(), {}, None, timeout=5)).status == 200
        assert (await http.request("GET", server.url(), {}, None, timeout=5)).status == 200
        assert server.connections == 2 and len(requests) == 2


async def test_a_new_connection_closed_without_an_answer_is_an_error(http: HttpTransport) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    async with RawServer(hang_up) as server:
        with pytest.raises(ConnectionResetError):
            await http.request("GET", server.url(), {}, None, timeout=5)
        assert server.connections == 1  # not tried again: the server got it and chose not to answer


async def test_a_slow_answer_times_out_and_its_connection_is_not_kept(http: HttpTransport) -> None:
    release = asyncio.Event()

    async def slow_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if release.is_set():
            await answer_each(reader, writer)
            return
        await reader.readuntil(b"\r\n\r\n")
        await release.wait()

    async with RawServer(slow_first) as server:
        with pytest.raises(TimeoutError):
            await http.request("GET", server.url(), {}, None, timeout=0.2)
        release.set()
        assert (await http.request("GET", server.url(), {}, None, timeout=5)).status == 200
        assert server.connections == 2


async def test_an_answer_larger_than_the_limit_gives_its_status_and_closes(http: HttpTransport) -> None:
    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {4 * MAX_BODY}\r\n\r\n".encode())
        for _ in range(4 * MAX_BODY // 65536):
            writer.write(b"x" * 65536)
            await writer.drain()

    async with RawServer(huge) as server:
        answer = await http.request("GET", server.url(), {}, None, timeout=10, keep=5)
        assert (answer.status, answer.body) == (200, b"xxxxx")
        answer = await http.request("GET", server.url(), {}, None, timeout=10)
        assert server.connections == 2


async def test_a_post_reaches_an_aiohttp_server_whole(http: HttpTransport, aiohttp_server: ServerFactory,
                                                     ) -> None:
    seen: list[tuple[str, str, bytes, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.method, request.raw_path, await request.read(), request.headers["X-Id"]))
        return web.Response(status=202, text="queued")

    app = web.Application()
    app.router.add_post("/in", handle)
    server = await aiohttp_server(app)
    url = f"http://127.0.0.1:{server.port}/in?a=%2B1"
    answer = await http.request("POST", url, {"X-Id": "7", "Content-Type": "application/json"}, b'{"t": 1}',
                                timeout=5, keep=100)
    assert (answer.status, answer.body, answer.headers["content-type"]) == (202, b"queued",
                                                                            "text/plain; charset=utf-8")
    assert seen == [("POST", "/in?a=%2B1", b'{"t": 1}', "7")]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


async def test_https_is_verified_against_the_trust_store(certificate: tuple[Path, Path],
                                                        aiohttp_server: ServerFactory) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def handle(request: web.Request) -> web.Response:
        return web.Response(text="secure")

    app = web.Application()
    app.router.add_get("/x", handle)
    server = await aiohttp_server(app, ssl=server_tls)
    url = f"https://127.0.0.1:{server.port}/x"
    async with HttpTransport(tls=ssl.create_default_context(cafile=str(cert))) as trusting:
        answer = await trusting.request("GET", url, {}, None, timeout=5, keep=10)
        assert (answer.status, answer.body) == (200, b"secure")
    async with HttpTransport() as default:  # the system's store does not know this certificate
        with pytest.raises(ssl.SSLCertVerificationError):
            await default.request("GET", url, {}, None, timeout=5)
