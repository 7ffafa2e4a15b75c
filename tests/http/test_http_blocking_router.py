"""RapidSMS's BlockingRouter: the site sends its reply via our sendsms while our inbound request is open."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from httpfakes import KANNEL_PASS, KANNEL_USER, FakeGateway, make_config

from modembridge.config import RouterConfig
from modembridge.http import HttpTransport, RouterClient, create_app, start_server
from modembridge.model import DeliveryOutcome, InboundMessage
from modembridge.observe import Metrics

N = 40


def inbound(i: int) -> InboundMessage:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return InboundMessage(message_id=f"in-{i}", sender=f"+2547000{i:05d}", text=f"ping {i}", modem_id="m1",
                          received_at=now, smsc_timestamp=now, parts=1, total_parts=1, encoding="gsm7")


async def test_reply_inside_inbound_request(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> None:
    gateway = FakeGateway()
    bridge = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0")
    sendsms = f"http://127.0.0.1:{bridge.addresses[0][1]}/cgi-bin/sendsms"
    answers: list[tuple[int, str]] = []
    all_arrived = asyncio.Event()
    arrived = 0

    async def site(request: web.Request) -> web.Response:
        """Like RapidSMS's Kannel view under BlockingRouter: reply through sendsms, then answer 200."""
        nonlocal arrived
        arrived += 1
        if arrived == N:
            all_arrived.set()
        await asyncio.wait_for(all_arrived.wait(), 10)  # every inbound request is open at once
        query = urlencode({"username": KANNEL_USER, "password": KANNEL_PASS, "to": request.query["id"],
                           "text": "pong " + request.query["text"], "charset": "UTF-8", "coding": 0})
        async with aiohttp.ClientSession() as s, s.get(f"{sendsms}?{query}") as resp:
            answers.append((resp.status, await resp.text()))
        return web.Response(text="")

    app = web.Application()
    app.router.add_get("/backend/kannel-fake-smsc/", site)
    server = await aiohttp_server(app)
    try:
        async with HttpTransport() as http:
            client = RouterClient(RouterConfig(url=str(server.make_url("/backend/kannel-fake-smsc/")),
                                               concurrency=N), http)
            results = await asyncio.gather(*(client.deliver(inbound(i)) for i in range(N)))
    finally:
        await bridge.cleanup()
    assert [r.outcome for r in results] == [DeliveryOutcome.DELIVERED] * N
    assert answers == [(202, "0: Accepted for delivery")] * N
    assert sorted(r.text for r in gateway.submitted) == sorted(f"pong ping {i}" for i in range(N))
    assert {r.recipients[0] for r in gateway.submitted} == {f"+2547000{i:05d}" for i in range(N)}
