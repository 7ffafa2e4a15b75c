"""A level-triggered wake-up for loops that sleep until there is work or a deadline passes."""

from __future__ import annotations

import asyncio
import contextlib
import time


class Wakeup:
    """`poke()` from anywhere in the loop; `wait(until)` returns at the poke or at `until` (unix time)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def poke(self) -> None:
        self._event.set()

    async def wait(self, until: float | None, *, cap: float = 5.0) -> None:
        """The cap bounds the sleep so changes made by another process (`modembridge messages retry`)
        are picked up within seconds without any signalling between the processes."""
        timeout = cap if until is None else max(0.0, min(cap, until - time.time()))
        if timeout > 0 and not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()
