"""Test doubles for the web side: an in-memory Gateway that behaves like the bridge's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from modembridge.config import Config, HttpConfig, KannelConfig, ModemConfig
from modembridge.http.segments import count_parts
from modembridge.model import SendAccepted, SendRequest, UnknownModemError

TOKEN = "s3cret-token"
KANNEL_USER = "rapidsms"
KANNEL_PASS = "p@ss word"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]


class FakeGateway:
    """Idempotent on client ids, raises UnknownModemError, keeps message views; records submits."""

    def __init__(self, modems: tuple[str, ...] = ("m1", "m2")) -> None:
        self.modems = modems
        self.submitted: list[SendRequest] = []
        self.by_client_id: dict[str, SendAccepted] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.ready = (True, "ready: m1 registered")
        self.fail_next: Exception | None = None
        self.hold: asyncio.Event | None = None  # when set, submit waits for it (concurrency tests)

    async def submit(self, request: SendRequest) -> SendAccepted:
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        if request.modem is not None and request.modem not in self.modems:
            raise UnknownModemError(request.modem)
        if request.client_id is not None and request.client_id in self.by_client_id:
            first = self.by_client_id[request.client_id]
            return SendAccepted(
                first.message_id, first.recipients, first.encoding, first.parts, duplicate=True
            )
        self.submitted.append(request)
        encoding, parts = count_parts(request.text)
        accepted = SendAccepted(str(uuid.uuid4()), request.recipients, encoding, parts)
        if request.client_id is not None:
            self.by_client_id[request.client_id] = accepted
        self.views[accepted.message_id] = {
            "id": accepted.message_id,
            "state": "queued",
            "recipients": [{"to": r, "state": "queued", "parts": []} for r in request.recipients],
        }
        return accepted

    def message(self, message_id: str) -> dict[str, Any] | None:
        return self.views.get(message_id)

    def status(self) -> dict[str, Any]:
        """The bridge's shape (modembridge/bridge/core.py)."""
        return {
            "modems": {
                "m1": {"id": "m1", "state": "ready", "signal_dbm": -71, "registration": "home",
                       "storage": {"SM": {"used": 3, "total": 30}}, "sim_full": False,
                       "sim_swap": "SIM changed: ICCID 8901 -> 8902",
                       "recovery": {"failures": 0, "taken": {"reinit": 2, "reopen": 1, "reset": 0}}},
                "m2": {"id": "m2", "state": "no_sim", "signal_dbm": None, "registration": None,
                       "storage": {}},
            },
            "queues": {"outbound_parts": {"m1": len(self.submitted)}, "journal": {"in": {"received": 2}}},
            "counters": {"inbound_delivered": 5, "outbound_accepted": len(self.submitted)},
        }

    def readiness(self) -> tuple[bool, str]:
        return self.ready

    def modem_ids(self) -> tuple[str, ...]:
        return self.modems


def make_config(**http: Any) -> Config:
    base: dict[str, Any] = {
        "api_token": TOKEN,
        "kannel": KannelConfig(username=KANNEL_USER, password=KANNEL_PASS),
    }
    base.update(http)
    return Config(modems=(ModemConfig(id="m1", port="/dev/null"),), http=HttpConfig(**base))
