"""An event loop whose clock jumps over idle time, for tests that run entirely in memory.

When the loop has nothing to run and no I/O is ready, it does not sleep until its next timer: it moves its
clock there at once. The driver's timeouts, quiet periods, pings and backoffs, and the simulator's delays,
all measured by the loop's clock, then take no wall time, and still happen in the same order. The clock
is the real one plus the time skipped, so it never runs slower than real time (a busy loop still
progresses). Only for tests without real I/O: a pty or a subprocess would see its timeouts fire before
its bytes arrive.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class _SkippingSelector(selectors.BaseSelector):
    def __init__(self, loop: VirtualTimeLoop, inner: selectors.BaseSelector) -> None:
        self._loop = loop
        self._inner = inner

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout is None or timeout <= 0:
            return ready if ready or timeout == 0 else self._inner.select(timeout)
        self._loop.skipped += timeout  # idle until the next timer: be there now
        return ready

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.skipped = 0.0
        super().__init__(_SkippingSelector(self, selectors.DefaultSelector()))

    def time(self) -> float:
        return super().time() + self.skipped
