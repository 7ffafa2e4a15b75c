"""The modem driver: a :class:`Supervisor` (open, initialise, supervise, recover) and the
:class:`Operations` the bridge uses (read, list, delete, acknowledge, send), over one :class:`Session`
(the open port) at a time. ``Modem`` composes them and is the only class the bridge needs.

``run()`` never raises because of the modem; operations wait for READY up to their timeout instead of
failing. See supervisor.py for faults and recovery, operations.py for the exchanges.
"""

from __future__ import annotations

import asyncio

from modembridge.at.commands import StoredPdu
from modembridge.at.connector import SERIAL, Connector
from modembridge.at.events import ModemEvent, ModemInfo, ModemState
from modembridge.at.facts import ModemFacts, VolatileFacts
from modembridge.at.operations import Operations
from modembridge.at.recovery import RecoveryLadder
from modembridge.at.sim_lock import SimNeedsHuman, SimSwap
from modembridge.at.status import ModemStatus
from modembridge.at.supervisor import Supervisor
from modembridge.config import ModemConfig
from modembridge.model.status import ModemSnapshot, RecoveryStats
from modembridge.observe import Metrics, ModemMetrics

__all__ = ["Modem", "SimNeedsHuman"]


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
        self.ladder = RecoveryLadder(*reconnect_delay)
        self._metrics = metrics if metrics is not None else Metrics().modem(config.id)
        self.supervisor = Supervisor(config, self.status, facts=self.facts, metrics=self._metrics,
                                     ladder=self.ladder, sync_timeout=sync_timeout, connector=connector)
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

    async def ack(self) -> None:
        await self.operations.ack()

    async def send(self, pdu_hex: str, tpdu_length: int) -> int:
        return await self.operations.send(pdu_hex, tpdu_length)

    # --- what it knows
    @property
    def state(self) -> ModemState:
        return self.status.state

    @property
    def state_reason(self) -> str:
        return self.status.state_reason

    @property
    def registration(self) -> str:
        return self.status.registration

    @property
    def sim_full(self) -> bool:
        return self.status.sim_full

    @property
    def info(self) -> ModemInfo:
        return self.status.info

    @property
    def signal_dbm(self) -> int | None:
        return self.status.signal_dbm

    @property
    def operator(self) -> str | None:
        return self.status.operator

    @property
    def cnmi(self) -> tuple[int, ...] | None:
        return self.status.cnmi

    @property
    def sim_swap(self) -> SimSwap | None:
        return self.status.sim_swap

    @property
    def last_error(self) -> str | None:
        return self.status.last_error

    @property
    def _op_lock(self) -> asyncio.Lock:
        """The lock every exchange holds (tests of the bridge wait for it to be free)."""
        return self.supervisor.lock

    def snapshot(self) -> ModemSnapshot:
        return self.status.snapshot(RecoveryStats(self.ladder.failures, self._metrics.recoveries()))
