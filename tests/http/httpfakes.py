"""Test doubles for the web side: an in-memory Gateway that behaves like the bridge's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from modembridge.config import Config, HttpConfig, KannelConfig, ModemConfig, RouterConfig
from modembridge.http.segments import count_parts
from modembridge.model import (
    BridgeStatus,
    ClientIdConflict,
    FleetView,
    JournalCounts,
    MessageView,
    ModemInfo,
    ModemSnapshot,
    ModemState,
    OutboundView,
    QueueStatus,
    RecipientView,
    RecoveryStats,
    SendAccepted,
    SendRequest,
    StorageFill,
    UnknownModemError,
)

TOKEN = "s3cret-token"
ROUTER_URL = "http://site/backend/kannel/"  # the RapidSMS site: dlr-urls under its origin are allowed
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
        self.by_client_id: dict[str, tuple[SendAccepted, str]] = {}  # with the request's fingerprint
        self.views: dict[str, MessageView] = {}
        self.ready = (True, "ready: m1 registered")
        self.fail_next: Exception | None = None
        self.hold: asyncio.Event | None = None  # when set, submit waits for it (concurrency tests)
        self.fleet: FleetView | Exception | None = None  # what fleet_view() gives (or raises)

    async def submit(self, request: SendRequest) -> SendAccepted:
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        if request.modem is not None and request.modem not in self.modems:
            raise UnknownModemError(request.modem)
        if request.client_id is not None and request.client_id in self.by_client_id:
            first, fingerprint = self.by_client_id[request.client_id]
            if fingerprint != request.fingerprint():
                raise ClientIdConflict(request.client_id, first.message_id)
            return SendAccepted(
                first.message_id, first.recipients, first.encoding, first.parts, duplicate=True
            )
        self.submitted.append(request)
        encoding, parts = count_parts(request.text)
        accepted = SendAccepted(str(uuid.uuid4()), request.recipients, encoding, parts)
        if request.client_id is not None:
            self.by_client_id[request.client_id] = (accepted, request.fingerprint())
        self.views[accepted.message_id] = OutboundView(
            id=accepted.message_id, direction="out", state="queued", client_id=request.client_id,
            source=request.source, text=request.text, sender=request.sender, encoding=encoding, parts=parts,
            status_report=request.status_report, validity=request.validity, flash=request.flash,
            modem=request.modem, dlr_url=request.dlr_url, dlr_mask=request.dlr_mask,
            created_at=datetime(2026, 12, 1, tzinfo=UTC), expires_at=None,
            recipients=tuple(RecipientView(number=r, modem=None, state="queued", parts=())
                             for r in request.recipients))
        return accepted

    def message(self, message_id: str) -> MessageView | None:
        return self.views.get(message_id)

    def status(self) -> BridgeStatus:
        """Built from the bridge's own types, so it cannot drift from what the bridge reports."""
        return BridgeStatus(
            modems={
                "m1": snapshot("m1", signal_dbm=-71, storage={"SM": StorageFill(3, 30)},
                               sim_swap="SIM changed: ICCID 8901 -> 8902",
                               recovery=RecoveryStats(0, {"reinit": 2, "reopen": 1, "reset": 0})),
                "m2": snapshot("m2", state=ModemState.FAILED, state_reason="no SIM card inserted",
                               signal_dbm=None, registration="unknown", last_error="no SIM card inserted"),
            },
            queues=QueueStatus(outbound_parts={"m1": len(self.submitted)},
                               journal=JournalCounts(inbound={"received": 2}, outbound={"queued": 1})),
            counters={"router_delivered": 5, "outbound_accepted": len(self.submitted)},
        )

    def liveness(self) -> str:
        return "ok"

    def readiness(self) -> tuple[bool, str]:
        return self.ready

    def modem_ids(self) -> tuple[str, ...]:
        return self.modems

    def send_modem_ids(self) -> tuple[str, ...]:
        return self.modems

    async def fleet_view(self) -> FleetView | None:
        if isinstance(self.fleet, Exception):
            raise self.fleet
        return self.fleet


def make_config(**http: Any) -> Config:
    base: dict[str, Any] = {
        "api_token": TOKEN,
        "kannel": KannelConfig(username=KANNEL_USER, password=KANNEL_PASS),
    }
    base.update(http)
    return Config(modems=(ModemConfig(id="m1", port="/dev/null"),), http=HttpConfig(**base),
                  router=RouterConfig(url=ROUTER_URL))


def snapshot(modem_id: str, **changes: Any) -> ModemSnapshot:
    """A ready, registered modem's snapshot, with `changes`."""
    base = ModemSnapshot(
        id=modem_id, port=f"/dev/{modem_id}", state=ModemState.READY, state_reason="ready",
        info=ModemInfo(manufacturer="SIMCOM", model="SIM800", imei="356938035643809",
                       imsi="001010123456789", iccid="8901260000000000001", profile="sim800"),
        signal_dbm=-71, registration="home", operator="SIMNET", storage={}, sim_full=False, sim_swap=None,
        cnmi=(2, 1, 2, 1, 0), recovery=RecoveryStats(0, {"reinit": 0, "reopen": 0, "reset": 0}),
        last_error=None)
    return replace(base, **changes)
