"""Connections a careless or hostile client leaves open, and the logs it provokes (issue 12, items 4, 9):
a real server on 127.0.0.1 and raw sockets."""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from httpfakes import FakeGateway, make_config

from modembridge.http import create_app, start_server
from modembridge.http.serving import FD_RESERVE, RateLimit, connection_cap
from modembridge.observe import Metrics


async def served(gateway: FakeGateway, **kw: float | int) -> tuple[web.AppRunner, int]:
    runner = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0", **kw)  # type: ignore[arg-type]
    return runner, runner.addresses[0][1]


@pytest.fixture
async def runners() -> AsyncIterator[list[web.AppRunner]]:
    made: list[web.AppRunner] = []
    yield made
    for runner in made:
        await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the server wrote before closing the connection (b"" when it just closed)."""
    return await asyncio.wait_for(reader.read(), timeout)


async def healthz(port: int) -> int:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/healthz") as resp:
        return resp.status


async def test_connections_that_send_no_complete_request_are_closed(gateway: FakeGateway,
                                                                  runners: list[web.AppRunner]) -> None:
    runner, port = await served(gateway, idle_timeout=0.3)
    runners.append(runner)
    silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
    slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
    slow_writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers that never end (slowloris)
    await slow_writer.drain()
    for reader, _ in silent:
        assert await closed_by_server(reader, 5.0) == b""
    assert await closed_by_server(slow_reader, 5.0) == b""
    for _, writer in [*silent, (slow_reader, slow_writer)]:
        writer.close()
    assert await healthz(port) == 200


async def test_connections_beyond_the_cap_get_a_503_and_the_server_lives(gateway: FakeGateway,
                                                                       runners: list[web.AppRunner]) -> None:
    runner, port = await served(gateway, max_connections=10, idle_timeout=60)
    runners.append(runner)
    idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(10)]
    for _ in range(50):  # a reconnecting client: refused at once, every time
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await closed_by_server(reader, 5.0)).startswith(b"HTTP/1.1 503")
        writer.close()
    for _, writer in idle:
        writer.close()
    for _ in range(100):  # the server notices the closed ones
        if len(runner.server.connections) < 10:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.01)
    assert await healthz(port) == 200


def test_the_cap_stays_below_the_open_file_limit() -> None:
    assert connection_cap(512, (1024, 4096)) == 512
    assert connection_cap(512, (256, 256)) == 256 - FD_RESERVE  # systemd's old default of 1,024 and less
    assert connection_cap(512, (100, 100)) == 1
    assert connection_cap(512, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)) == 512


def test_repeated_log_lines_are_rate_limited_with_a_count() -> None:
    now = [0.0]
    limit = RateLimit(window=60.0, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)

    shown = [r for r in (record("socket.accept() out of system resource") for _ in range(1000))
             if limit.filter(r)]
    assert len(shown) == 1
    assert limit.filter(record("another message"))  # other lines are not held back
    now[0] = 61.0
    later = record("socket.accept() out of system resource")
    assert limit.filter(later) and "999 more like it" in later.getMessage()


async def test_a_malformed_request_logs_one_warning_line(gateway: FakeGateway, runners: list[web.AppRunner],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    runner, port = await served(gateway)
    runners.append(runner)
    for _ in range(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /cgi-bin/sendsms?password=hunter2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n")
        await writer.drain()
        assert (await closed_by_server(reader, 5.0)).startswith(b"HTTP/1.0 400")
        writer.close()
    server_lines = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(server_lines) == 1  # five bad requests, one line
    [line] = server_lines
    assert line.levelno == logging.WARNING and line.exc_info is None and "\n" not in line.getMessage()
    assert "bad request" in line.getMessage() and "hunter2" not in caplog.text


async def test_a_body_that_trickles_in_is_answered_408_and_the_connection_freed(
        gateway: FakeGateway, runners: list[web.AppRunner]) -> None:
    runner, port = await served(gateway, idle_timeout=0.3)
    runners.append(runner)
    native = ("/api/v1/messages", "Authorization: Bearer s3cret-token\r\n")
    for path, headers in (native, ("/cgi-bin/sendsms", "")):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Type: "
                     "application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nu".encode())
        # one byte of a thousand, then nothing: answered and closed, the connection freed
        await writer.drain()
        answer = await closed_by_server(reader, 5.0)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:60]
    assert gateway.submitted == []


async def test_sendsms_refuses_wrong_query_credentials_before_reading_the_body(
        gateway: FakeGateway, runners: list[web.AppRunner]) -> None:
    runner, port = await served(gateway, idle_timeout=30)
    runners.append(runner)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /cgi-bin/sendsms?username=x&password=wrong HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)  # at once, not after 30 s
    writer.close()
    assert head.startswith(b"HTTP/1.1 403")


def test_the_rate_limit_tells_apart_what_differs_in_a_line() -> None:
    limit = RateLimit(window=60.0, clock=lambda: 0.0)

    def record(user: str) -> logging.LogRecord:
        return logging.LogRecord("modembridge.http", logging.WARNING, __file__, 1,
                                 "sendsms: authorization failed for user %r", (user,), None)

    assert limit.filter(record("mallory")) and not limit.filter(record("mallory"))
    assert limit.filter(record("alice"))  # another client's failure still shows
