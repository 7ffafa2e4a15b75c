"""Helpers for driving a real Modem against the simulated modem (over in-memory ports unless told)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from modembridge.at import Modem, ModemEvent, ModemState, StateChanged
from modembridge.config import ModemConfig
from modembridge.sim.memory import PORTS

E = TypeVar("E")

FAST = {"command_timeout": 2.0, "send_timeout": 3.0, "health_interval": 30.0, "sweep_interval": 60.0}


def fast_config(port: str, **kw: Any) -> ModemConfig:
    return ModemConfig(id="gsm0", port=port, **{**FAST, **kw})


async def next_event(modem: Modem, kind: type[E], pred: Callable[[E], bool] = lambda _e: True,
                     timeout: float = 5.0, seen: list[ModemEvent] | None = None) -> E:
    """Consume the modem's events until one of ``kind`` matching ``pred`` (others go to ``seen``)."""
    async with asyncio.timeout(timeout):
        while True:
            ev = await modem.events.get()
            if isinstance(ev, kind) and pred(ev):
                return ev
            if seen is not None:
                seen.append(ev)


async def wait_state(modem: Modem, state: ModemState, timeout: float = 5.0,
                     seen: list[ModemEvent] | None = None) -> StateChanged:
    if modem.state == state:
        return StateChanged(state, modem.state_reason)
    return await next_event(modem, StateChanged, lambda e: e.state == state, timeout, seen)


@contextlib.asynccontextmanager
async def running(config: ModemConfig, *, ready: bool = True, **kw: Any) -> AsyncIterator[Modem]:
    """A Modem with run() as a task; waits for READY unless told not to; stopped and awaited at exit.
    Ports are in-memory ones (pass ``connector=SERIAL`` for a pty)."""
    kw.setdefault("connector", PORTS)
    kw.setdefault("reconnect_delay", (0.05, 0.2))
    kw.setdefault("sync_timeout", 0.3)
    modem = Modem(config, **kw)
    task = asyncio.create_task(modem.run())
    try:
        if ready:
            await wait_state(modem, ModemState.READY, timeout=10.0)
        yield modem
    finally:
        await asyncio.wait_for(modem.stop(), 10)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.done() and task.exception() is None  # run() never raises because of the modem
