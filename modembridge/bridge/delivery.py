"""Deliver journal entries over HTTP (inbound messages to the router, delivery-report callbacks).

One loop serves both queues: it asks the journal for what is due, delivers with bounded concurrency,
records each outcome (which schedules the retry with backoff), commits, and sleeps until the next
entry is due or it is poked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from modembridge.bridge.wakeup import Wakeup
from modembridge.model import DeliveryOutcome, DeliveryResult

log = logging.getLogger(__name__)

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")


@dataclass
class DeliveryQueue(Generic[Key, Item]):
    """How one journal queue is read and written: synchronous journal calls, except deliver."""

    name: str
    due: Callable[[float, int], list[tuple[Key, Item]]]  # (now, limit) -> due entries, oldest first
    next_due_at: Callable[[], float | None]
    deliver: Callable[[Item], Awaitable[DeliveryResult]]
    record: Callable[[Key, Item, DeliveryResult, float], None]  # writes the outcome (not yet committed)
    commit: Callable[[], Awaitable[None]]
    concurrency: int = 4


class DeliveryLoop(Generic[Key, Item]):
    def __init__(self, queue: DeliveryQueue[Key, Item], *, clock: Callable[[], float] = time.time) -> None:
        self.queue = queue
        self.wakeup = Wakeup()
        self._clock = clock
        self._in_flight: set[Key] = set()
        self._slots = asyncio.Semaphore(max(1, queue.concurrency))
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                started = self._start_due()
                if not started:
                    await self.wakeup.wait(None if self._in_flight else self.queue.next_due_at())
                else:
                    await asyncio.sleep(0)
        finally:
            for task in self._tasks:
                task.cancel()

    def _start_due(self) -> int:
        """Start a delivery for every due entry not already in flight, up to the free slots."""
        free = self.queue.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        entries = self.queue.due(self._clock(), free + len(self._in_flight))
        started = 0
        for key, item in entries:
            if key in self._in_flight or len(self._in_flight) >= self.queue.concurrency:
                continue
            self._in_flight.add(key)
            task = asyncio.create_task(self._deliver(key, item), name=f"{self.queue.name}:{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _deliver(self, key: Key, item: Item) -> None:
        try:
            async with self._slots:
                try:
                    result = await self.queue.deliver(item)
                except Exception as exc:  # a bug in a formatter must not kill the loop or lose the entry
                    log.exception("%s: delivering %s failed unexpectedly", self.queue.name, key)
                    result = DeliveryResult(DeliveryOutcome.RETRY, None, f"internal error: {exc!r}")
                self.queue.record(key, item, result, self._clock())
                await self.queue.commit()
        finally:
            self._in_flight.discard(key)
            self.wakeup.poke()
