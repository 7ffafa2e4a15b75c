"""Deliver journal entries over HTTP (inbound messages to the router, delivery-report callbacks).

One loop serves both queues: it asks the journal for what is due, delivers with bounded concurrency,
records each outcome (which schedules the retry with backoff), commits, and sleeps until the next
entry is due or it is poked.

With a breaker (the router queue), a run of failures means the peer is down for everyone, not that
these entries are bad: the loop then sends one probe at a time, spaced by the retry policy's backoff,
instead of hammering the peer with every due entry, and tells `record` that the failures are an
outage (they must not count against an entry's place in its sender's order).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from modembridge.bridge.wakeup import Wakeup
from modembridge.config import RetryPolicy
from modembridge.model import DeliveryOutcome, DeliveryResult, PeerHealth
from modembridge.retry import backoff_delay

log = logging.getLogger(__name__)

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")

BREAKER_THRESHOLD = 3  # consecutive failed deliveries that open the breaker


@dataclass
class DeliveryQueue(Generic[Key, Item]):
    """How one journal queue is read and written: synchronous journal calls, except deliver."""

    name: str
    due: Callable[[float, int], list[tuple[Key, Item]]]  # (now, limit) -> due entries, oldest first
    next_due_at: Callable[[], float | None]
    deliver: Callable[[Item], Awaitable[DeliveryResult]]
    # writes the outcome (not yet committed); the flag says the peer is in an outage (breaker open)
    record: Callable[[Key, Item, DeliveryResult, float, bool], None]
    commit: Callable[[], Awaitable[None]]
    concurrency: int = 4
    breaker: RetryPolicy | None = None  # spacing of probes while the peer is down; None = no breaker


class DeliveryLoop(Generic[Key, Item]):
    def __init__(self, queue: DeliveryQueue[Key, Item], *, clock: Callable[[], float] = time.time) -> None:
        self.queue = queue
        self.wakeup = Wakeup()
        self._clock = clock
        self._in_flight: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures = 0  # consecutive RETRY outcomes
        self.last_error: str | None = None  # the last failed delivery's detail (cleared by a success)
        self._draining = False
        self._probe_at = 0.0  # breaker open: no new delivery before this time

    @property
    def breaker_open(self) -> bool:
        return self.queue.breaker is not None and self._failures >= BREAKER_THRESHOLD

    async def run(self) -> None:
        try:
            while not self._draining:
                try:
                    # Only committed entries go out: a row whose COMMIT is still pending could be rolled
                    # back, and its SMS read again under a new id (the router would see it twice).
                    await self.queue.commit()
                except Exception:
                    log.exception("%s: journal commit failed; pausing deliveries", self.queue.name)
                    await asyncio.sleep(1.0)
                    continue
                if self._start_due():
                    await asyncio.sleep(0)
                    continue
                until = None if self._in_flight else self.queue.next_due_at()
                if self.breaker_open and until is not None:
                    until = max(until, self._probe_at)
                await self.wakeup.wait(until)
        finally:
            for task in self._tasks:
                task.cancel()

    async def drain(self, timeout: float) -> None:
        """Start nothing new and let the deliveries in flight finish (up to `timeout` seconds).

        The daemon drains before it closes its HTTP server: a RapidSMS site answers an inbound message
        by calling our sendsms from inside that very request, and must still find us listening.
        """
        self._draining = True
        self.wakeup.poke()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def offer(self, key: Key, item: Item, written: Awaitable[bool] | None = None) -> bool:
        """Deliver `item` now, without waiting for the journal to be read, if a slot is free and the peer
        is up; False leaves it to the loop. The caller vouches that `key` is stable across a re-read.

        `written`: the entry is not in the journal yet; the outcome is recorded only once this says it
        is (True), and dropped if it never will be (False: the entry comes again under the same key).
        """
        if self._draining or self.breaker_open or key in self._in_flight:
            return False
        if len(self._in_flight) >= self.queue.concurrency:
            return False
        self._launch(key, item, written)
        return True

    def _launch(self, key: Key, item: Item, written: Awaitable[bool] | None = None) -> None:
        self._in_flight.add(key)
        task = asyncio.create_task(self._deliver(key, item, written), name=f"{self.queue.name}:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_due(self) -> int:
        """Start a delivery for every due entry not already in flight, up to the free slots."""
        concurrency = self.queue.concurrency
        if self.breaker_open:
            if self._clock() < self._probe_at:
                return 0
            concurrency = 1  # one probe at a time
        free = concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        started = 0
        for key, item in self.queue.due(self._clock(), free + len(self._in_flight)):
            if key in self._in_flight or len(self._in_flight) >= concurrency:
                continue
            self._launch(key, item)
            started += 1
        return started

    async def _deliver(self, key: Key, item: Item, written: Awaitable[bool] | None = None) -> None:
        try:
            try:
                result = await self.queue.deliver(item)
            except Exception as exc:  # a bug in a formatter must not kill the loop or lose the entry
                log.exception("%s: delivering %s failed unexpectedly", self.queue.name, key)
                result = DeliveryResult(DeliveryOutcome.RETRY, None, f"internal error: {exc!r}")
            now = self._clock()
            self._note_outcome(result, now)
            if written is not None and not await written:
                log.info("%s: %s answered %s, but its journal write failed: it comes again", self.queue.name,
                         key, result.outcome.value)
                return
            try:
                self.queue.record(key, item, result, now, self.breaker_open)
                await self.queue.commit()
            except Exception:  # rolled back: the entry is still due and goes out again (same id)
                log.exception("%s: recording the outcome for %s failed", self.queue.name, key)
        finally:
            self._in_flight.discard(key)
            self.wakeup.poke()

    def health(self) -> PeerHealth:
        """How the peer is doing: delivering, or in an outage with the last error and the next probe."""
        outage = self.breaker_open
        probe = datetime.fromtimestamp(self._probe_at, UTC) if outage and self._probe_at else None
        return PeerHealth("outage" if outage else "delivering", self._failures, self.last_error, probe)

    def _note_outcome(self, result: DeliveryResult, now: float) -> None:
        if result.outcome is not DeliveryOutcome.RETRY:
            if self.breaker_open:
                log.info("%s: answering again after %d failed tries", self.queue.name, self._failures)
            self._failures = 0
            self.last_error = None
            return
        self._failures += 1
        self.last_error = result.detail
        if self.queue.breaker is not None and self._failures >= BREAKER_THRESHOLD:
            if self._failures == BREAKER_THRESHOLD:
                log.warning(
                    "%s: %d failures in a row (%s): probing with one request at a time",
                    self.queue.name,
                    self._failures,
                    result.detail,
                )
            self._probe_at = now + backoff_delay(self.queue.breaker, self._failures - BREAKER_THRESHOLD + 1)
