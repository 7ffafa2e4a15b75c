"""Every counter moves exactly once per event, scraped from /metrics of a real bridge behind the real HTTP
server (issue 13: the accepted counter used to move twice per send, unseen behind a fake gateway)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from modembridge.config import HttpConfig, KannelConfig
from modembridge.http import create_app, start_server

from .conftest import Stack, wait_until

Counts = dict[tuple[str, tuple[tuple[str, str], ...]], float]
_SAMPLE = re.compile(r'^(modembridge_\w+_total)(?:\{(.*)\})? (\S+)$')


def parse(text: str) -> Counts:
    """Every *_total sample of a Prometheus exposition, keyed by name and labels."""
    out: Counts = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None:
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


class Scraper:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base
        self.last: Counts = {}

    async def counts(self) -> Counts:
        async with self.session.get(f"{self.base}/metrics") as resp:
            return parse(await resp.text())

    async def moved(self) -> dict[str, float]:
        """What changed since the last call, as 'name{k=v,...}' -> delta; the scrapes themselves left out."""
        now = await self.counts()
        deltas = {}
        for key, value in now.items():
            name, labels = key
            if name == "modembridge_http_requests_total" and ("route", "/metrics") in labels:
                continue
            delta = value - self.last.get(key, 0.0)
            if delta:
                deltas[name + "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"] = delta
        self.last = now
        return deltas


@pytest.fixture
async def served(make_stack: Any) -> AsyncIterator[tuple[Stack, Scraper]]:
    http = HttpConfig(listen="127.0.0.1:0", api_token="t", kannel=KannelConfig(username="u", password="p"))
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    config = replace(stack.config, http=http)
    runner = await start_server(create_app(config, stack.bridge, stack.bridge.metrics), http.listen)
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        scraper = Scraper(session, f"http://127.0.0.1:{port}")
        await stack.wait_ready()
        await scraper.moved()
        yield stack, scraper
    await runner.cleanup()


def settled(stack: Stack) -> bool:
    """Every accepted send is sent or failed, its outcome recorded (not queued, not mid-send)."""
    out = stack.store.views.counts().outbound
    return out["queued"] == 0 and out["sending"] == 0


async def sendsms(scraper: Scraper, **params: str) -> int:
    query = urllib.parse.urlencode({"username": "u", "password": "p", **params})
    async with scraper.session.get(f"{scraper.base}/cgi-bin/sendsms?{query}") as resp:
        return resp.status


async def test_each_counter_moves_once_per_event(served: tuple[Stack, Scraper]) -> None:
    stack, scraper = served
    route = "route=/cgi-bin/sendsms"

    # a send accepted through Kannel's sendsms, then sent by the modem
    dlr = {"dlr-mask": "1", "dlr-url": f"{stack.router.url}/dlr?status=%d"}
    assert await sendsms(scraper, to="+254711000001", text="hello", **dlr) == 202
    await stack.sim.wait_submitted(1)
    await stack.router.wait(lambda: len(stack.router.dlrs) == 1)  # the network's report, called back
    await wait_until(lambda: stack.store.reports.next_callback_due_at() is None)
    assert await scraper.moved() == {
        "modembridge_outbound_accepted_total{source=kannel}": 1,
        f"modembridge_http_requests_total{{{route},status=202}}": 1,
        "modembridge_outbound_parts_sent_total{modem=gsm0}": 1,
        "modembridge_dlr_received_total{modem=gsm0,status=delivered}": 1,
        "modembridge_dlr_callbacks_total{outcome=delivered}": 1,
    }

    # a second send, and one with a client id sent twice: answered twice, accepted once
    assert await sendsms(scraper, to="+254711000001", text="hello") == 202
    await stack.sim.wait_submitted(2)
    await wait_until(lambda: settled(stack))
    async with scraper.session.post(f"{scraper.base}/api/v1/messages", headers={"Authorization": "Bearer t"},
                                    json={"to": "+254711000002", "text": "once", "id": "k1"}) as r1:
        assert r1.status == 202
    async with scraper.session.post(f"{scraper.base}/api/v1/messages", headers={"Authorization": "Bearer t"},
                                    json={"to": "+254711000002", "text": "once", "id": "k1"}) as r2:
        assert r2.status == 202 and (await r2.json())["duplicate"] is True
    await stack.sim.wait_submitted(3)
    await wait_until(lambda: settled(stack))
    moved = await scraper.moved()
    assert moved["modembridge_outbound_accepted_total{source=kannel}"] == 1
    assert moved["modembridge_outbound_accepted_total{source=api}"] == 1  # the duplicate is not counted
    assert moved["modembridge_outbound_parts_sent_total{modem=gsm0}"] == 2

    # a refused send
    assert await sendsms(scraper, to="not-a-number", text="x") == 400
    assert await scraper.moved() == {
        "modembridge_outbound_rejected_total{field=to,source=kannel}": 1,
        f"modembridge_http_requests_total{{{route},status=400}}": 1,
    }

    # a part the network refuses for good, and one it is asked to retry
    stack.sim.fail_sends(1, cms=1)  # unassigned number: permanent
    assert await sendsms(scraper, to="+254711000003", text="fails") == 202
    await wait_until(lambda: settled(stack))
    stack.sim.fail_sends(1, cms=42)  # congestion: retried with backoff
    assert await sendsms(scraper, to="+254711000004", text="retried") == 202
    await stack.sim.wait_submitted(4)
    await wait_until(lambda: settled(stack))
    moved = await scraper.moved()
    assert moved["modembridge_outbound_parts_failed_total{modem=gsm0}"] == 1
    assert moved["modembridge_outbound_parts_retried_total{modem=gsm0}"] == 1
    assert moved["modembridge_outbound_parts_sent_total{modem=gsm0}"] == 1
    assert moved["modembridge_outbound_accepted_total{source=kannel}"] == 2

    # an inbound single-part message, then a two-part one
    await stack.sim.inject_text("+254722000001", "inbound one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    await wait_until(lambda: stack.store.views.counts().inbound["delivered"] == 1)
    await stack.sim.inject_text("+254722000002", "two parts " * 20)
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    await wait_until(lambda: stack.store.views.counts().inbound["delivered"] == 2)
    assert await scraper.moved() == {
        "modembridge_inbound_parts_total{modem=gsm0}": 3,
        "modembridge_inbound_messages_total{modem=gsm0}": 2,
        "modembridge_router_deliveries_total{outcome=delivered}": 2,
    }
    totals = stack.bridge.status().counters  # /status shows the same counters' totals
    assert totals["inbound_parts"] == 3 and totals["router_delivered"] == 2
    assert totals["outbound_accepted"] == 5 and totals["outbound_parts_sent"] == 4
