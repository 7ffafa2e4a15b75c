"""USSD end to end over a real pty: the native API (`/api/v1/modems/{id}/ussd`) on the real aiohttp app and
the real bridge, the simulated network's services on every modem profile, `modembridge ussd`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from modembridge.cli import main
from modembridge.config import HttpConfig
from modembridge.http import create_app
from modembridge.model import SendRequest

from .conftest import Stack, wait_until

TOKEN = "ussd-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROFILES = ["generic", "huawei", "sim800", "quectel"]


async def api(stack: Stack, aiohttp_client: Any) -> TestClient[Any, Any]:
    config = replace(stack.config, http=HttpConfig(api_token=TOKEN))
    return await aiohttp_client(create_app(config, stack.bridge, stack.bridge.metrics))


def requests(stack: Stack) -> list[str]:
    """What the simulated network got, decoded."""
    assert stack.sim.engine is not None
    return list(stack.sim.engine.ussd.requests)


async def ussd(client: TestClient[Any, Any], body: Any, modem: str = "gsm0") -> tuple[int, Any]:
    resp = await client.post(f"/api/v1/modems/{modem}/ussd", json=body, headers=AUTH)
    return resp.status, await resp.json()


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_balance_and_a_menu_on_every_profile(make_stack: Any, aiohttp_client: Any,
                                                     profile: str) -> None:
    stack: Stack = await make_stack(sim_kw={"profile": profile})
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    status, body = await ussd(client, {"code": "*100#"})
    assert status == 200, body
    assert body == {"status": "done", "text": "Your balance is 12.50 KSh. Valid until 31/12/2026.",
                    "session": None}
    status, menu = await ussd(client, {"code": "*123#"})
    assert (status, menu["status"]) == (200, "more") and menu["session"]
    assert menu["text"] == "Welcome to SIMNET\n1. Balance\n2. Data bundles\n3. Exit"  # raw line feeds
    status, sub = await ussd(client, {"code": "2", "session": menu["session"]})
    assert (sub["status"], sub["session"]) == ("more", menu["session"])
    status, done = await ussd(client, {"code": "1", "session": menu["session"]})
    assert done == {"status": "done", "text": "You bought 100MB. Thank you.", "session": None}
    assert requests(stack) == ["*100#", "*123#", "2", "1"]
    wire = stack.sim.traffic_bytes("rx")
    if profile == "huawei":  # the request as packed GSM 7-bit hex, the profile's default ussd_encoding
        assert b'AT+CUSD=1,"AA180C3602",15' in wire
    else:
        assert b'AT+CUSD=1,"*100#",15' in wire


async def test_a_ucs2_answer_and_an_unsupported_code(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    assert await ussd(client, {"code": "*144#"}) == (200, {"status": "done", "text": "Баланс: 12.50 руб.",
                                                          "session": None})
    assert (await ussd(client, {"code": "*555#"}))[1]["status"] == "unsupported"


@pytest.mark.parametrize("encoding", ["text", "packed", "ucs2"])
async def test_the_encoding_is_a_setting(make_stack: Any, aiohttp_client: Any, encoding: str) -> None:
    stack: Stack = await make_stack(modem_kw={"ussd_encoding": encoding},
                                    sim_kw={"ussd_mode": encoding})  # a modem that works this way
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    status, body = await ussd(client, {"code": "*100#"})
    assert status == 200 and requests(stack) == ["*100#"]
    sent = {"text": b'"*100#",15', "packed": b'"AA180C3602",15', "ucs2": b'"002A0031003000300023",72'}
    assert sent[encoding] in stack.sim.traffic_bytes("rx")
    assert body["text"] == "Your balance is 12.50 KSh. Valid until 31/12/2026."


async def test_one_session_per_modem_a_cancel_and_a_timeout(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"ussd_timeout": 0.3})
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    _, menu = await ussd(client, {"code": "*123#"})
    status, busy = await ussd(client, {"code": "*100#"})
    assert status == 409 and menu["session"] in busy["error"]
    resp = await client.delete("/api/v1/modems/gsm0/ussd", headers=AUTH)
    assert (resp.status, await resp.json()) == (200, {"status": "cancelled"})
    assert b"AT+CUSD=2" in stack.sim.traffic_bytes("rx")
    resp = await client.delete("/api/v1/modems/gsm0/ussd", headers=AUTH)
    assert resp.status == 404  # nothing open any more
    status, gone = await ussd(client, {"code": "1", "session": menu["session"]})
    assert status == 404 and gone["field"] == "session"
    assert await ussd(client, {"code": "*999#"}) == (504, {"status": "timeout", "text": "", "session": None})
    assert (await ussd(client, {"code": "*100#"}))[1]["status"] == "done"  # the timeout closed it


async def test_bad_requests_get_a_clear_4xx_and_reach_no_modem(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    for body, field in [({"code": "*100#; AT+CFUN=0"}, "code"), ({"code": ""}, "code"),
                        ({"code": 100}, "code"), ({"code": "*100#", "session": 7}, "session"),
                        ({"code": "1", "session": "nope"}, "session"), (["*100#"], None)]:
        status, answer = await ussd(client, body)
        assert 400 <= status < 500 and answer["field"] == field, (body, status, answer)
    resp = await client.post("/api/v1/modems/gsm0/ussd", data=b"{not json", headers=AUTH)
    assert resp.status == 400
    status, answer = await ussd(client, {"code": "*100#"}, modem="gsm9")
    assert (status, answer["field"]) == (404, "id")
    resp = await client.post("/api/v1/modems/gsm0/ussd", json={"code": "*100#"})
    assert resp.status == 401
    assert requests(stack) == [] and b"CUSD" not in stack.sim.traffic_bytes("rx")


async def test_ussd_goes_between_exchanges_and_never_delays_a_send(make_stack: Any,
                                                                   aiohttp_client: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"send_delay": 0.4})
    await stack.wait_ready()
    client = await api(stack, aiohttp_client)
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000301",), text="first"))
    await wait_until(lambda: stack.store.views.outbound(accepted.message_id).recipients[0].parts[0].state
                     == "sending")
    status, body = await ussd(client, {"code": "*100#"})
    assert status == 200 and body["status"] == "done"
    traffic = [(t.direction, t.data) for t in stack.sim.e.traffic]
    cmgs_answer = next(i for i, (d, data) in enumerate(traffic) if d == "tx" and b"+CMGS:" in data)
    cusd_written = next(i for i, (d, data) in enumerate(traffic) if d == "rx" and b"AT+CUSD" in data)
    assert cmgs_answer < cusd_written  # the send finished first; USSD waited for the next gap


async def test_the_cli_walks_a_menu(make_stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    config = replace(stack.config, http=HttpConfig(api_token=TOKEN))
    runner = web.AppRunner(create_app(config, stack.bridge, stack.bridge.metrics), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        walk = ["ussd", "gsm0", "*123#", "2", "2", "--url", url, "--token", TOKEN]
        code = await asyncio.to_thread(main, walk)
        out = capsys.readouterr().out
        assert code == 0 and "Welcome to SIMNET" in out and "> 2" in out and "You bought 1GB" in out
        code = await asyncio.to_thread(main, ["ussd", "gsm0", "*123#", "--url", url, "--token", TOKEN])
        assert code == 0 and "session ended" in capsys.readouterr().out  # a menu left is not left open
        assert requests(stack)[-1] == "*123#" and b"AT+CUSD=2" in stack.sim.traffic_bytes("rx")
        code = await asyncio.to_thread(main, ["ussd", "gsm0", "*100#", "--url", url, "--token", "wrong"])
        assert code == 1 and "401" in capsys.readouterr().err
    finally:
        await runner.cleanup()
