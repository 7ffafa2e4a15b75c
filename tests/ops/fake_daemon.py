"""A stand-in for the daemon's HTTP API (native send + /status), on a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from modembridge.model import BridgeStatus, JournalCounts, ModemState, QueueStatus, StorageFill
from modembridge.model.wire import to_wire
from tests.http.httpfakes import snapshot

TOKEN = "s3cret-token"

STATUS: dict[str, Any] = to_wire(BridgeStatus(  # the bridge's own types, as the daemon serializes them
    modems={
        "gsm0": snapshot("gsm0", signal_dbm=-73, operator="Safaricom", storage={"SM": StorageFill(3, 30)}),
        "gsm1": snapshot("gsm1", state=ModemState.RECOVERING, state_reason="no answer: reopen",
                         signal_dbm=None, registration="searching",
                         last_error="+CME ERROR: 10 (SIM not inserted)"),
    },
    queues=QueueStatus(
        outbound_parts={"gsm0": 2, "unassigned": 5},
        journal=JournalCounts(inbound={"received": 1, "delivered": 40}, outbound={"queued": 3, "sent": 99})),
    counters={"inbound_parts": 41, "outbound_accepted": 102},
))  # type: ignore[assignment]


@dataclass
class FakeDaemon:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_token: str = ""

    async def send(self, request: web.Request) -> web.Response:
        self.requests.append({"auth": request.headers.get("Authorization"), "body": await request.text()})
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response(
                {"error": "missing or wrong bearer token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        body = await request.json()
        if any(not n.lstrip("+").isdigit() for n in body["to"]):
            return web.json_response({"error": "invalid phone number 'abc'", "field": "to"}, status=400)
        if body.get("modem") not in (None, "gsm0", "gsm1"):
            return web.json_response(
                {"error": f"unknown modem {body['modem']!r}", "field": "modem"}, status=400
            )
        client_id = body.get("id")
        if client_id in self.accepted:
            return web.json_response({**self.accepted[client_id], "duplicate": True}, status=202)
        ucs2 = any(ord(c) > 0x7F for c in body["text"])
        per_part = 67 if ucs2 else 153
        parts = 1 if len(body["text"]) <= (70 if ucs2 else 160) else -(-len(body["text"]) // per_part)
        answer = {
            "id": f"m{len(self.requests):04d}",
            "recipients": body["to"],
            "encoding": "ucs2" if ucs2 else "gsm7",
            "parts": parts,
            "duplicate": False,
        }
        if client_id:
            self.accepted[client_id] = answer
        return web.json_response(answer, status=202)

    async def status(self, request: web.Request) -> web.Response:
        if self.status_token and request.headers.get("Authorization") != f"Bearer {self.status_token}":
            return web.Response(status=401, text="unauthorized")
        return web.json_response(STATUS)


@asynccontextmanager
async def fake_daemon() -> AsyncIterator[FakeDaemon]:
    daemon = FakeDaemon()
    app = web.Application()
    app.router.add_post("/api/v1/messages", daemon.send)
    app.router.add_get("/status", daemon.status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    daemon.url = f"http://127.0.0.1:{port}"
    try:
        yield daemon
    finally:
        await runner.cleanup()
