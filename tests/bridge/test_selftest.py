"""The loopback self-test over a real pty: the SIM's own number from AT+CNUM, the SMS sent to it comes
back, each step is timed, the message that came back reaches no router; and `modembridge selftest`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from modembridge.cli import main
from modembridge.config import HttpConfig
from modembridge.http import create_app

from .conftest import Stack, wait_until

TOKEN = "selftest-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OWN = "+15550100001"  # the simulated SIM's number


def app(stack: Stack) -> web.Application:
    return create_app(replace(stack.config, http=HttpConfig(api_token=TOKEN)), stack.bridge,
                      stack.bridge.metrics)


@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_an_sms_to_the_sims_own_number_comes_back_timed(make_stack: Any, aiohttp_client: Any,
                                                              profile: str) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.3, "profile": profile})
    await stack.wait_ready()
    assert stack.bridge.modems["gsm0"].info.own_number == OWN  # read with AT+CNUM
    client = await aiohttp_client(app(stack))
    resp = await client.post("/api/v1/modems/gsm0/selftest", json={"timeout": 10}, headers=AUTH)
    result = await resp.json()
    assert resp.status == 200 and result["ok"], result
    assert result["to"] == OWN and result["report_status"] == "delivered"
    assert 0 < result["smsc_ack"] < result["arrived"] and result["report"] > result["smsc_ack"]
    await wait_until(lambda: stack.store.views.counts().inbound["selftest"] == 1)
    assert stack.router.requests == []  # the message that came back is not the router's
    [kept] = stack.store.views.recent(direction="in", state="selftest", limit=5)
    assert kept.text.startswith("modembridge selftest") and kept.sender == OWN


async def test_a_number_that_never_answers_fails_with_the_reason(make_stack: Any,
                                                                 aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await aiohttp_client(app(stack))
    resp = await client.post("/api/v1/modems/gsm0/selftest", json={"to": "+254711000601", "timeout": 3},
                             headers=AUTH)
    result = await resp.json()
    assert resp.status == 200 and not result["ok"] and result["smsc_ack"] is not None
    assert "did not come back" in result["error"]


@pytest.mark.parametrize(("body", "field"), [({"to": "not a number"}, "to"), ({"timeout": 0}, "timeout"),
                                             ({"timeout": "soon"}, "timeout"), ([1], None)])
async def test_bad_requests_are_refused(make_stack: Any, aiohttp_client: Any, body: Any,
                                        field: str | None) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await aiohttp_client(app(stack))
    resp = await client.post("/api/v1/modems/gsm0/selftest", json=body, headers=AUTH)
    assert resp.status == 400 and (await resp.json())["field"] == field
    assert (await client.post("/api/v1/modems/nope/selftest", json={}, headers=AUTH)).status == 404
    assert stack.sim.submitted() == []


async def test_a_sim_without_its_number_needs_own_number_or_to(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"own_number": ""})
    await stack.wait_ready()
    client = await aiohttp_client(app(stack))
    resp = await client.post("/api/v1/modems/gsm0/selftest", json={}, headers=AUTH)
    assert resp.status == 400 and "own_number" in (await resp.json())["error"]


async def test_the_cli_prints_each_step(make_stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.1})
    await stack.wait_ready()
    runner = web.AppRunner(app(stack), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        code = await asyncio.to_thread(main, ["selftest", "gsm0", "--url", url, "--token", TOKEN,
                                              "--timeout", "10"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "SMSC acknowledged" in out and "arrived back" in out and "(delivered)" in out
        assert out.rstrip().endswith("ok")
    finally:
        await runner.cleanup()


async def test_a_selftest_message_that_comes_back_late_still_reaches_no_router(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    await stack.sim.inject_text(OWN, "modembridge selftest 0123456789: this SMS tests the modem; late")
    await stack.sim.inject_text("+254711000602", "a real one after it")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == "a real one after it"
    await wait_until(lambda: stack.store.views.counts().inbound["selftest"] == 1)


async def test_a_refused_selftest_answers_at_once(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.sim.fail_sends(1, cms=21)  # a permanent refusal (short message transfer rejected)
    client = await aiohttp_client(app(stack))
    resp = await asyncio.wait_for(client.post("/api/v1/modems/gsm0/selftest", json={"timeout": 300},
                                              headers=AUTH), 30)  # not the 300 s of its timeout
    result = await resp.json()
    assert not result["ok"] and "refused" in result["error"] and result["arrived"] is None
