"""The modem driver: a :class:`Supervisor` (open, initialise, supervise, recover) and the
:class:`Operations` the bridge uses (read, list, delete, acknowledge, send), over one :class:`Session`
(the open port) at a time. ``Modem`` composes them and is the only class the bridge needs.

``run()`` never raises because of the modem; operations wait for READY up to their timeout instead of
failing. See supervisor.py for faults and recovery, operations.py for the exchanges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Generic, Literal, TypeVar, overload

from modembridge.at.commands import StoredPdu, UssdResult
from modembridge.at.connector import SERIAL, Connector
from modembridge.at.events import ModemEvent, ModemInfo, ModemState
from modembridge.at.facts import ModemFacts, VolatileFacts
from modembridge.at.operations import Operations
from modembridge.at.sim_lock import SimNeedsHuman, SimSwap
from modembridge.at.status import ModemStatus
from modembridge.at.supervisor import Supervisor
from modembridge.config import ModemConfig
from modembridge.model.status import ModemSnapshot, RecoveryStats
from modembridge.observe import Metrics, ModemMetrics

__all__ = ["Modem", "SimNeedsHuman"]

T = TypeVar("T")


class _Status(Generic[T]):
    """A read-only attribute of the modem that is the same-named one of its ModemStatus."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, modem: None, owner: type) -> _Status[T]: ...

    @overload
    def __get__(self, modem: Modem, owner: type | None = None) -> T: ...

    def __get__(self, modem: Modem | None, owner: type | None = None) -> T | _Status[T]:
        if modem is None:
            return self
        value: T = getattr(modem.status, self.name)
        return value


class Modem:
    """One serial GSM modem. Start ``run()`` as a task; use the operations from other tasks."""

    def __init__(self, config: ModemConfig, *, events: asyncio.Queue[ModemEvent] | None = None,
                 facts: ModemFacts | None = None, metrics: ModemMetrics | None = None,
                 reconnect_delay: tuple[float, float] = (0.5, 60.0), sync_timeout: float = 2.0,
                 connector: Connector = SERIAL) -> None:
        self.config = config
        self.events: asyncio.Queue[ModemEvent] = events if events is not None else asyncio.Queue()
        self.facts: ModemFacts = facts if facts is not None else VolatileFacts()
        self.status = ModemStatus(config.id, config.port, self.events)
        self.supervisor = Supervisor(config, self.status, facts=self.facts,
                                     metrics=metrics if metrics is not None else Metrics().modem(config.id),
                                     reconnect_delay=reconnect_delay, sync_timeout=sync_timeout,
                                     connector=connector)
        self.ladder = self.supervisor.ladder
        self.operations = Operations(config, self.status, self.supervisor)

    # --- supervision
    async def run(self) -> None:
        """Supervise the modem until cancelled or stop(); never raises because of the modem."""
        await self.supervisor.run()

    async def stop(self) -> None:
        """Let the exchange in progress finish, then close the port and end run()."""
        await self.supervisor.stop()

    # --- operations
    async def read(self, mem: str, index: int) -> StoredPdu | None:
        return await self.operations.read(mem, index)

    async def list_stored(self) -> list[StoredPdu]:
        return await self.operations.list_stored()

    async def delete(self, mem: str, index: int) -> None:
        await self.operations.delete(mem, index)

    async def ack(self, seq: int | None = None) -> None:
        await self.operations.ack(seq)

    async def send(self, pdu_hex: str, tpdu_length: int, before_pdu: Awaitable[bool] | None = None) -> int:
        return await self.operations.send(pdu_hex, tpdu_length, before_pdu)

    async def ussd(self, string: str, dcs: int, answer_timeout: float) -> UssdResult:
        return await self.operations.ussd(string, dcs, answer_timeout)

    async def ussd_cancel(self) -> None:
        await self.operations.ussd_cancel()

    def reinitialize(self, reason: str) -> None:
        """Initialise the modem again, between exchanges (an operator's action)."""
        self.supervisor.request_reinit(reason)

    def reset(self, reason: str) -> None:
        """Reset the modem and bring it back (an operator's action)."""
        self.supervisor.request_reset(reason)

    async def hang_up(self) -> None:
        """Reject the call that rings (the profile's hang-up command)."""
        await self.operations.hang_up(self.supervisor.profile.hangup)

    @property
    def ussd_mode(self) -> Literal["text", "packed", "ucs2"]:
        """How USSD strings go to and come from this modem: `ussd_encoding`, else its profile's."""
        mode = self.config.ussd_encoding
        return self.supervisor.profile.ussd if mode == "auto" else mode

    # --- what it knows (ModemStatus, read-only here)
    state: _Status[ModemState] = _Status()
    state_reason: _Status[str] = _Status()
    registration: _Status[str] = _Status()
    sim_full: _Status[bool] = _Status()
    info: _Status[ModemInfo] = _Status()
    signal_dbm: _Status[int | None] = _Status()
    operator: _Status[str | None] = _Status()
    cnmi: _Status[tuple[int, ...] | None] = _Status()
    storage: _Status[dict[str, tuple[int, int]]] = _Status()
    sim_swap: _Status[SimSwap | None] = _Status()
    last_error: _Status[str | None] = _Status()

    @property
    def _op_lock(self) -> asyncio.Lock:
        """The lock every exchange holds (tests of the bridge wait for it to be free)."""
        return self.supervisor.lock

    def snapshot(self) -> ModemSnapshot:
        return self.status.snapshot(RecoveryStats(self.ladder.failures, self.supervisor.metrics.recoveries()))
