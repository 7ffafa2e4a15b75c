"""An in-process stack for pipeline tests: simulated modems on real ptys, the real journal on a real
SQLite file, the real Bridge with the real HTTP clients, and a real aiohttp router on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from modembridge.bridge import Bridge
from modembridge.config import (
    Config,
    DlrConfig,
    InboundConfig,
    ModemConfig,
    OutboundConfig,
    RetryPolicy,
    RouterConfig,
    StoreConfig,
)
from modembridge.http import HttpTransport
from modembridge.http.callbacks import CallbackPolicy
from modembridge.http.client import DlrClient, RouterClient
from modembridge.model import InboundView
from modembridge.observe import Metrics
from modembridge.sim.harness import SimModem
from modembridge.store import Store

FAST_RETRY = RetryPolicy(initial=0.02, factor=2.0, cap=0.1, max_attempts=0)


@dataclass
class Router:
    """A router (RapidSMS stand-in) that records every request and answers from a script of statuses."""

    statuses: dict[str, list[int]] = field(default_factory=dict)  # sender -> statuses to answer first
    requests: list[dict[str, Any]] = field(default_factory=list)
    dlrs: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    fail_all: bool = False  # answer 500 to every inbound request
    calls: list[dict[str, Any]] = field(default_factory=list)  # missed-call events posted to /calls
    call_statuses: list[int] = field(default_factory=list)  # statuses to answer them with first

    async def inbound(self, request: web.Request) -> web.Response:
        sender = request.query.get("id", "")
        script = self.statuses.get(sender)
        status = script.pop(0) if script else 500 if self.fail_all else 200
        self.requests.append(
            {
                "sender": sender,
                "text": request.query.get("text", ""),
                "status": status,
                "message_id": request.headers.get("X-Message-Id"),
                "at": time.time(),
                "mono": time.monotonic(),
                "raw_query": request.raw_path.partition("?")[2],
            }
        )
        self.changed.set()
        return web.Response(status=status, text="ok" if status < 400 else "no")

    async def posted(self, request: web.Request) -> web.Response:
        """The json and generic formats: the body as sent, parsed."""
        raw = await request.read()
        if request.content_type == "application/json":
            fields: dict[str, Any] = json.loads(raw)
            sender = str(fields["sender"])
        else:
            fields = {k: v[0] for k, v in parse_qs(raw.decode("ascii"), keep_blank_values=True).items()}
            sender = str(fields.get("id", ""))
        self.requests.append({"sender": sender, "text": fields.get("text", ""), "status": 200,
                              "message_id": request.headers.get("X-Message-Id"), "fields": fields,
                              "at": time.time(), "mono": time.monotonic()})
        self.changed.set()
        return web.Response(text="ok")

    async def call(self, request: web.Request) -> web.Response:
        status = self.call_statuses.pop(0) if self.call_statuses else 200
        raw = await request.read()
        self.calls.append({"status": status, "body": json.loads(raw), "raw": raw,
                           "headers": dict(request.headers)})
        self.changed.set()
        return web.Response(status=status, text="ok")

    async def dlr(self, request: web.Request) -> web.Response:
        self.dlrs.append(dict(request.query))
        self.changed.set()
        return web.Response(text="ok")

    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] < 300]

    async def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


@dataclass
class Stack:
    bridge: Bridge
    store: Store
    sims: dict[str, SimModem]
    router: Router
    config: Config

    @property
    def sim(self) -> SimModem:
        return next(iter(self.sims.values()))

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await wait_until(lambda: bool(self.bridge.readiness()[0]), timeout)


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> None:
    """Poll a cheap in-process predicate (journal state) until it holds; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


def inbound_state(store: Store, message_id: str) -> str | None:
    """An inbound message's journal state; None until its rows are written: a new single-part message may
    reach the router first (the inbound fast path, docs/durability.md)."""
    view = store.views.inbound(message_id)
    return None if view is None else str(view.state)


async def journalled(store: Store, message_id: str) -> InboundView:
    """The journal's view of an inbound message the router has seen, once its rows are written."""
    await wait_until(lambda: store.views.inbound(message_id) is not None)
    view = store.views.inbound(message_id)
    assert view is not None
    return view


@pytest.fixture
async def router() -> AsyncIterator[Router]:
    r = Router()
    app = web.Application()
    app.router.add_get("/backend/kannel/", r.inbound)
    app.router.add_post("/backend/posted/", r.posted)
    app.router.add_post("/calls", r.call)
    app.router.add_get("/dlr", r.dlr)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    r.url = f"http://127.0.0.1:{port}"
    yield r
    await runner.cleanup()


@pytest.fixture
async def make_stack(tmp_path: Path, router: Router) -> AsyncIterator[Callable[..., Any]]:
    """`await make_stack(modems=2, outbound=OutboundConfig(...), sim_kw={...})` -> a started Stack."""
    opened: list[tuple[Bridge, Store, list[SimModem], HttpTransport]] = []

    async def make(
        modems: int = 1, *, sim_kw: dict[str, Any] | None = None, indication: str = "stored",
        modem_kw: dict[str, Any] | None = None, **sections: Any
    ) -> Stack:
        sims: dict[str, SimModem] = {}
        modem_configs = []
        for i in range(modems):
            mid = f"gsm{i}"
            kw = dict(sim_kw or {})
            sim = SimModem(tmp_path / mid, seed=i + 1, control=kw.pop("control", None), **kw)
            await sim.start()
            sims[mid] = sim
            extra = {"sim_control": sim.control_url} if sim.control_url else {}
            modem_configs.append(
                ModemConfig(
                    id=mid,
                    port=str(sim.link),
                    indication=indication,  # type: ignore[arg-type]
                    command_timeout=2.0,
                    send_timeout=5.0,
                    health_interval=60.0,
                    sweep_interval=60.0,
                    **extra,
                    **(modem_kw or {}),
                )
            )
        config = Config(
            modems=tuple(modem_configs),
            store=StoreConfig(path=str(tmp_path / "journal.db")),
            router=RouterConfig(url=f"{router.url}/backend/kannel/", retry=FAST_RETRY, timeout=5.0),
            dlr=DlrConfig(retry=FAST_RETRY),
            inbound=InboundConfig(reassembly_timeout=sections.pop("reassembly_timeout", 600.0)),
            outbound=sections.pop("outbound", OutboundConfig(retry=FAST_RETRY)),
        )
        if sections:
            config = replace(config, **sections)
        store = Store(config.store.path, synchronous=config.store.synchronous)
        http = HttpTransport()
        metrics = Metrics()
        client = RouterClient(config.router, http, metrics)
        bridge = Bridge(
            config,
            store,
            router=client.deliver,
            calls=client.deliver_call if config.router.call_url else None,
            dlr=DlrClient(config.dlr, http, metrics, policy=CallbackPolicy.from_config(config)).call,
            metrics=metrics,
        )
        await bridge.start()
        opened.append((bridge, store, list(sims.values()), http))
        return Stack(bridge, store, sims, router, config)

    yield make
    for bridge, store, sims, http in opened:
        await bridge.stop_deliveries()  # as the daemon stops: deliveries in flight end first
        await bridge.stop()
        store.close()
        await http.close()
        for sim in sims:
            await sim.stop()
