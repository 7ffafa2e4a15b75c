"""What the driver knows of its modem at any instant (state, identity, network, storage, errors), and the
events it owes the consumer when that changes. Written by the supervisor and the operations; read through
:meth:`ModemStatus.snapshot`."""

from __future__ import annotations

import asyncio
import logging

from modembridge.at.events import ModemEvent, ModemInfo, ModemState, StateChanged, SweepNeeded
from modembridge.at.sim_lock import SimSwap
from modembridge.model.status import ModemSnapshot, RecoveryStats, StorageFill

log = logging.getLogger("modembridge.at.modem")


class ModemStatus:
    def __init__(self, modem_id: str, port: str, events: asyncio.Queue[ModemEvent]) -> None:
        self.modem_id = modem_id
        self.port = port
        self.events = events
        self.state = ModemState.STOPPED
        self.state_reason = "not started"
        self.info = ModemInfo()
        self.signal_dbm: int | None = None
        self.registration = "unknown"
        self.operator: str | None = None
        self.storage: dict[str, tuple[int, int]] = {}  # memory -> (used, total), of every memory visited
        self.sim_full = False
        self.sim_swap: SimSwap | None = None
        self.last_error: str | None = None
        self.cnmi: tuple[int, ...] | None = None

    def emit(self, event: ModemEvent) -> None:
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("%s: event queue full, dropped %r (a later sweep finds stored messages)",
                        self.modem_id, event)

    def set_state(self, state: ModemState, reason: str) -> None:
        if state == self.state and reason == self.state_reason:
            return
        self.state, self.state_reason = state, reason
        level = logging.WARNING if state in (ModemState.RECOVERING, ModemState.FAILED) else logging.INFO
        log.log(level, "%s: %s (%s)", self.modem_id, state.value, reason)
        self.emit(StateChanged(state, reason))

    def set_registration(self, name: str) -> None:
        if name != self.registration:
            level = logging.INFO if name in ("home", "roaming") else logging.WARNING
            log.log(level, "%s: network registration: %s -> %s", self.modem_id, self.registration, name)
            self.registration = name

    def set_sim_full(self, full: bool, why: str) -> None:
        """A full SIM makes the network hold new messages: report it, and sweep to empty it."""
        if full and not self.sim_full:
            log.warning("%s: SIM message storage full (%s): sweeping it empty", self.modem_id, why)
            self.emit(SweepNeeded("SIM storage full"))
        elif self.sim_full and not full:
            log.info("%s: SIM message storage has room again (%s)", self.modem_id, why)
        self.sim_full = full

    def error(self, text: str) -> None:
        self.last_error = text

    def snapshot(self, recovery: RecoveryStats) -> ModemSnapshot:
        swap = self.sim_swap
        return ModemSnapshot(
            id=self.modem_id, port=self.port, state=self.state, state_reason=self.state_reason,
            info=self.info, signal_dbm=self.signal_dbm, registration=self.registration,
            operator=self.operator,
            storage={m: StorageFill(u, t) for m, (u, t) in self.storage.items()}, sim_full=self.sim_full,
            sim_swap=swap.describe() if swap else None, cnmi=self.cnmi, recovery=recovery,
            last_error=self.last_error,
        )
