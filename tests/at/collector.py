"""A minimal consumer of a Modem's events, doing what the bridge does (read, keep, then delete or ack), so
driver tests can check that nothing is lost across a fault."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from modembridge.at import (
    AtError,
    MessageDirect,
    MessageStored,
    Modem,
    ModemEvent,
    ModemState,
    ReportDirect,
    ReportStored,
    StateChanged,
    SweepNeeded,
)
from modembridge.sms.pdu import Deliver, StatusReport, decode_pdu


class Collector:
    def __init__(self, modem: Modem) -> None:
        self.modem = modem
        self.texts: list[str] = []
        self.reports: list[StatusReport] = []
        self.how: list[str] = []  # how each message or report arrived: stored, direct or sweep
        self.states: list[StateChanged] = []
        self.sweeps: list[str] = []  # sweeps begun (their reasons)
        self.swept: list[str] = []  # sweeps finished
        self.errors: list[str] = []
        self.go = asyncio.Event()  # clear it to pause handling (events wait in the modem's queue)
        self.go.set()
        self._changed = asyncio.Event()

    def _keep(self, pdu: str, length: int | None, how: str) -> None:
        msg = decode_pdu(pdu, tpdu_length=length)
        if isinstance(msg, Deliver):
            self.texts.append(msg.text)
        elif isinstance(msg, StatusReport):
            self.reports.append(msg)
        self.how.append(how)
        self._changed.set()

    async def handle(self, ev: ModemEvent) -> None:
        match ev:
            case MessageStored(mem=mem, index=index) | ReportStored(mem=mem, index=index):
                stored = await self.modem.read(mem, index)
                if stored is not None:
                    self._keep(stored.pdu, stored.length, "stored")
                    await self.modem.delete(mem, index)
            case MessageDirect() | ReportDirect():
                self._keep(ev.pdu, ev.length, "direct")
                await self.modem.ack(ev.seq)
            case SweepNeeded(reason=reason):
                self.sweeps.append(reason)
                for stored in await self.modem.list_stored():
                    self._keep(stored.pdu, stored.length, "sweep")
                    await self.modem.delete(stored.mem, stored.index)
                self.swept.append(reason)
                self._changed.set()
            case StateChanged():
                self.states.append(ev)
                self._changed.set()

    async def run(self) -> None:
        while True:
            ev = await self.modem.events.get()
            await self.go.wait()
            try:
                await self.handle(ev)
            except AtError as e:  # left on the SIM for the next sweep, as the bridge does
                self.errors.append(str(e))

    async def wait_texts(self, expected: set[str], timeout: float = 15.0) -> None:
        """Until every text in ``expected`` was received (TimeoutError with what is missing)."""
        try:
            async with asyncio.timeout(timeout):
                while not expected <= set(self.texts):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"not received: {sorted(expected - set(self.texts))}") from None

    async def wait_for(self, pred: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not pred():
                self._changed.clear()
                await self._changed.wait()

    async def wait_state(self, state: ModemState, timeout: float = 15.0, after: int = 0) -> StateChanged:
        """The first StateChanged to ``state`` at or after position ``after`` of the state log."""
        async with asyncio.timeout(timeout):
            while True:
                for ev in self.states[after:]:
                    if ev.state == state:
                        return ev
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def collecting(modem: Modem) -> AsyncIterator[Collector]:
    c = Collector(modem)
    task = asyncio.create_task(c.run())
    try:
        yield c
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
