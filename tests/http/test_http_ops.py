"""Operations endpoints, metrics, access logging and secrets."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from httpfakes import AUTH, KANNEL_PASS, KANNEL_USER, Client, ClientFactory, FakeGateway, make_config
from yarl import URL

from modembridge.config import parse_listen
from modembridge.http import create_app, start_server
from modembridge.model import BridgeStatus
from modembridge.observe import Metrics


async def test_healthz(client: Client) -> None:
    resp = await client.get("/healthz")
    assert (resp.status, await resp.text()) == (200, "ok")


async def test_readyz(client: Client, gateway: FakeGateway) -> None:
    resp = await client.get("/readyz")
    assert (resp.status, await resp.text()) == (200, "ready: m1 registered")
    gateway.ready = (False, "no modem registered")
    resp = await client.get("/readyz")
    assert (resp.status, await resp.text()) == (503, "no modem registered")


async def test_status_json(client: Client) -> None:
    resp = await client.get("/status")
    assert resp.status == 200
    body = await resp.json()
    assert body["modems"]["m1"]["state"] == "ready"


async def test_metrics_exposition(client: Client, metrics: Metrics) -> None:
    """What the HTTP side counts (rejections, requests) and the gauges read from the status; what the
    bridge counts is checked against a real bridge in tests/bridge/test_metrics.py."""
    await client.post("/api/v1/messages", json={"to": "+254700000001", "text": "x"}, headers=AUTH)
    await client.post("/api/v1/messages", json={"to": "bad", "text": "x"}, headers=AUTH)
    for _ in range(3):
        metrics.inbound_part("m1", completes=False)
    metrics.router_attempt("delivered", 0.2)
    metrics.modem("m1").recovery("reinit")
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert 'modembridge_outbound_accepted_total{source="api"}' not in text  # the fake gateway counts nothing
    assert 'modembridge_outbound_rejected_total{field="to",source="api"} 1.0' in text
    assert 'modembridge_inbound_parts_total{modem="m1"} 3.0' in text
    assert "modembridge_router_request_seconds_count 1.0" in text
    assert 'modembridge_queue_depth{queue="outbound_parts.m1"} 1.0' in text
    assert 'modembridge_queue_depth{queue="journal.in.received"} 2.0' in text
    assert 'modembridge_modem_signal_dbm{modem="m1"} -71.0' in text
    assert 'modembridge_modem_signal_dbm{modem="m2"}' not in text
    assert 'modembridge_modem_state{modem="m2",state="failed"} 1.0' in text
    assert 'modembridge_modem_registered{modem="m1"} 1.0' in text
    assert 'modembridge_modem_registered{modem="m2"} 0.0' in text
    assert 'modembridge_modem_storage_used{memory="SM",modem="m1"} 3.0' in text
    assert 'modembridge_modem_storage_capacity{memory="SM",modem="m1"} 30.0' in text
    assert 'modembridge_router_deliveries_total{outcome="delivered"} 1.0' in text
    assert 'modembridge_modem_recoveries_total{modem="m1",rung="reinit"} 1.0' in text
    assert 'modembridge_modem_recoveries_total{modem="m1",rung="reset"} 0.0' in text
    assert 'modembridge_modem_sim_full{modem="m1"} 0.0' in text
    assert 'modembridge_modem_sim_swapped{modem="m1"} 1.0' in text
    assert 'modembridge_modem_sim_swapped{modem="m2"} 0.0' in text
    assert 'modembridge_http_requests_total{route="/api/v1/messages",status="202"} 1.0' in text


def test_metrics_have_their_own_registry() -> None:
    a, b = Metrics(), Metrics()  # a second instance would clash on a shared (global) registry
    a.inbound_part("m1", completes=True)
    assert b"modembridge_inbound_messages_total{modem=\"m1\"} 1.0" in a.render()
    assert b"modembridge_inbound_messages_total{modem=\"m1\"}" not in b.render()


def test_status_collector_survives_a_failing_status() -> None:
    m = Metrics()

    def broken() -> BridgeStatus:
        raise RuntimeError("boom")

    m.bind_status(broken)
    assert b"modembridge_queue_depth" in m.render()


async def test_status_token(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(status_token="st"), gateway, Metrics()))
    for path in ("/status", "/metrics"):
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers={"Authorization": "Bearer st"})).status == 200
    assert (await client.get("/healthz")).status == 200  # liveness stays open


async def test_secrets_never_logged(gateway: FakeGateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    runner = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0")
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}/cgi-bin/sendsms?username={KANNEL_USER}"
    try:
        async with aiohttp.ClientSession() as s:
            for query in ("&password=wrong-secret&to=1&text=x",
                          f"&password={KANNEL_PASS.replace(' ', '+')}&to=abc&text=private+words"):
                async with s.get(URL(base + query, encoded=True)) as resp:
                    assert resp.status in (400, 403)
    finally:
        await runner.cleanup()
    assert "GET /cgi-bin/sendsms 403" in caplog.text  # the access log line is there
    assert "wrong-secret" not in caplog.text
    assert "p@ss" not in caplog.text
    assert "private" not in caplog.text


@pytest.mark.parametrize("listen", [":8080", "8080", "localhost", "[::1:80"])
async def test_start_server_reads_listen_like_the_config(gateway: FakeGateway, listen: str) -> None:
    """One parser (config.parse_listen): the host is required, as the config's validation says."""
    with pytest.raises(ValueError, match="is not host:port") as err:
        await start_server(create_app(make_config(), gateway, Metrics()), listen)
    with pytest.raises(ValueError) as again:
        parse_listen(listen)
    assert str(err.value) == str(again.value)


async def test_start_server_on_loopback(gateway: FakeGateway) -> None:
    runner = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0")
    try:
        host, port = runner.addresses[0][:2]
        assert host == "127.0.0.1" and port > 0
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
    finally:
        await runner.cleanup()


def test_metrics_read_the_gauges_from_the_bound_status(gateway: FakeGateway) -> None:
    metrics = Metrics()
    metrics.bind_status(gateway.status)
    text = metrics.render()
    assert b'modembridge_queue_depth{queue="journal.in.received"} 2.0' in text
    assert b'modembridge_modem_signal_dbm{modem="m1"} -71.0' in text


async def test_malformed_request_logs_no_password(
    gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    caplog.set_level(logging.DEBUG)
    runner = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        # a raw (not percent-encoded) byte in the query: aiohttp refuses it and logs the request line
        writer.write(b"GET /cgi-bin/sendsms?username=rapidsms&password=hunter2&to=1&text=caf\xe9 HTTP/1.1\r\n"
                     b"Host: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    finally:
        await runner.cleanup()
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    assert "bad request: Invalid char in url query" in caplog.text  # logged, as one line, without the query
    assert "hunter2" not in caplog.text
    assert gateway.submitted == []
