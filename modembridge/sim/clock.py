"""Timer scheduling for the sans-I/O engine: the asyncio loop in production, a manual clock in unit tests."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What the engine needs from a clock. ``asyncio.AbstractEventLoop`` satisfies it."""

    def call_later(self, delay: float, callback: Callable[[], object], /) -> Handle: ...

    def time(self) -> float: ...


class _ManualHandle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Deterministic scheduler: time moves only when ``advance()`` is called."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, _ManualHandle, Callable[[], object]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], object], /) -> _ManualHandle:
        h = _ManualHandle()
        heapq.heappush(self._heap, (self.now + max(0.0, delay), next(self._seq), h, callback))
        return h

    def advance(self, seconds: float = 0.0) -> None:
        """Run every timer due within ``seconds`` from now, in order (timers may schedule more)."""
        end = self.now + seconds
        while self._heap and self._heap[0][0] <= end:
            when, _, h, cb = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            if not h.cancelled:
                cb()
        self.now = end

    def pending(self) -> int:
        return sum(1 for e in self._heap if not e[2].cancelled)
