#!/usr/bin/env python3
"""How fast the modem driver notices and recovers from each fault, with the shipped defaults.

    python bench/recovery_bench.py [--runs 3] [--profile generic]

The simulated modem runs in this process on a real pty; the driver (modembridge.at.Modem) uses the default
ModemConfig (command_timeout 5 s, ping_interval 5 s ...). Prints JSON: seconds per scenario and run.

- replug: the tty vanishes for 8 s (USB unplug); from its reappearance to READY
- hang_idle: the modem stops answering while idle; until the driver says RECOVERING
- hang_in_command: the modem stops answering, then a read is asked; until RECOVERING
- restart: the modem restarts by itself (RDY, settings lost); until READY again
- wedge: only AT/ATE/CFUN answered and reads keep timing out; from the first read to READY after the reset
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from modembridge.at import Modem, ModemState, StateChanged
from modembridge.config import ModemConfig
from modembridge.sim.harness import SimModem

STATES: list[tuple[float, ModemState]] = []  # every state change, as (time, state)


async def until(pred: Callable[[], bool], timeout: float = 120.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)


async def replug(sim: SimModem, modem: Modem) -> float:
    mark = len(STATES)
    await sim.vanish(8.0)
    await until(lambda: first(ModemState.RECOVERING, mark) is not None)
    await sim.wait_present(30)
    t0 = time.monotonic()
    await until(lambda: modem.state == ModemState.READY)
    return time.monotonic() - t0


def first(state: ModemState, mark: int) -> float | None:
    """When the first change to ``state`` after position ``mark`` of STATES happened (None: not yet).
    Polling modem.state would miss a state that lasts microseconds (RECOVERING before a re-init)."""
    return next((t for t, s in STATES[mark:] if s == state), None)


async def hang_idle(sim: SimModem, modem: Modem) -> float:
    mark = len(STATES)
    sim.set_hang(True)
    t0 = time.monotonic()
    await until(lambda: first(ModemState.RECOVERING, mark) is not None)
    took = (first(ModemState.RECOVERING, mark) or 0.0) - t0
    sim.set_hang(False)
    await until(lambda: modem.state == ModemState.READY)
    return took


async def hang_in_command(sim: SimModem, modem: Modem) -> float:
    mark = len(STATES)
    sim.set_hang(True)
    t0 = time.monotonic()
    reader = asyncio.create_task(modem.read("SM", 1))
    await until(lambda: first(ModemState.RECOVERING, mark) is not None)
    took = (first(ModemState.RECOVERING, mark) or 0.0) - t0
    with contextlib.suppress(Exception):
        await reader
    sim.set_hang(False)
    await until(lambda: modem.state == ModemState.READY)
    return took


async def restart(sim: SimModem, modem: Modem) -> float:
    mark = len(STATES)
    t0 = time.monotonic()
    sim.restart()

    def ready_again() -> bool:
        seen = [s for _t, s in STATES[mark:]]
        return ModemState.INITIALIZING in seen and seen[-1] == ModemState.READY

    await until(ready_again)  # a re-init takes milliseconds: watch the events, not a poll of the state
    return STATES[-1][0] - t0


async def wedge(sim: SimModem, modem: Modem) -> float:
    sim.set_wedged(True)
    t0 = time.monotonic()

    async def reads() -> None:
        while modem.state == ModemState.READY:
            with contextlib.suppress(Exception):
                await modem.read("SM", 1)

    mark = len(STATES)
    task = asyncio.create_task(reads())
    await until(lambda: first(ModemState.RECOVERING, mark) is not None)
    await until(lambda: STATES[-1][1] == ModemState.READY)
    took = STATES[-1][0] - t0
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return took


SCENARIOS: dict[str, Callable[[SimModem, Modem], Awaitable[float]]] = {
    "replug": replug, "hang_idle": hang_idle, "hang_in_command": hang_in_command, "restart": restart,
    "wedge": wedge,
}


async def main(runs: int, profile: str) -> dict[str, Any]:
    out: dict[str, Any] = {"profile": profile, "runs": runs, "seconds": {}}
    with tempfile.TemporaryDirectory() as tmp:
        async with SimModem(Path(tmp) / "gsm0", profile=profile, seed=1, control=None) as sim:
            modem = Modem(ModemConfig(id="gsm0", port=str(sim.link)))
            task = asyncio.create_task(modem.run())
            await until(lambda: modem.state == ModemState.READY)
            drain = asyncio.create_task(_drain(modem))
            for name, scenario in SCENARIOS.items():
                times = [await scenario(sim, modem) for _ in range(runs)]
                out["seconds"][name] = {"runs": [round(t, 2) for t in times],
                                        "median": round(statistics.median(times), 2),
                                        "max": round(max(times), 2)}
            out["recoveries"] = dict(modem.snapshot().recovery.taken)
            drain.cancel()
            await modem.stop()
            await task
    return out


async def _drain(modem: Modem) -> None:
    while True:
        ev = await modem.events.get()
        if isinstance(ev, StateChanged):
            STATES.append((time.monotonic(), ev.state))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", default="generic")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.profile)), indent=2))
