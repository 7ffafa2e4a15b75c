"""Incoming voice calls on a modem ([[modem]] calls): rejected (or left to ring) and recorded as missed
calls ("flash me": a signal many SMS services use), each delivered to [router] call_url when set.

The driver reports every RING / +CRING / +CLIP; RINGs repeat every few seconds while a call rings, so
events within CALL_GAP of the last belong to one call. The hang-up is an AT command like any other: it
waits for the exchange in progress (a send, a read) to end, never breaks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from modembridge.at import AtError, Modem
from modembridge.config import ModemConfig
from modembridge.observe import Metrics, number
from modembridge.store import Store

log = logging.getLogger(__name__)

CLIP_WAIT = 0.5  # seconds after the first RING to wait for the caller's number (+CLIP follows RING)
CALL_GAP = 8.0  # a ring this soon after the last belongs to the same call (RINGs come every 3-6 s)


@dataclass
class _Call:
    at: float  # unix time of the first ring
    number: str | None = None
    named: asyncio.Event = field(default_factory=asyncio.Event)


class CallWatch:
    def __init__(self, config: ModemConfig, modem: Modem, store: Store, *, metrics: Metrics,
                 wake: Callable[[], None], deliver: bool, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.modem = modem
        self.store = store
        self._metrics = metrics
        self._wake = wake  # a missed call was journalled: the call_url loop should look
        self._deliver = deliver
        self._clock = clock
        self._monotonic = monotonic
        self._current: _Call | None = None
        self._last_ring = float("-inf")
        self._tasks: set[asyncio.Task[None]] = set()

    def ringing(self, caller: str | None) -> None:
        """A RING or +CLIP: a new call starts handling; one that still rings learns its number."""
        now = self._monotonic()
        same_call = self._current is not None and now - self._last_ring <= CALL_GAP
        self._last_ring = now
        if same_call:
            assert self._current is not None
            if caller and self._current.number is None:
                self._current.number = caller
                self._current.named.set()
            return
        call = _Call(self._clock(), caller)
        if caller:
            call.named.set()
        self._current = call
        task = asyncio.create_task(self._handle(call), name=f"call:{self.config.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, call: _Call) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.named.wait(), CLIP_WAIT)
        action: Literal["rejected", "ignored"] = "rejected" if self.config.calls == "reject" else "ignored"
        if action == "rejected":
            try:
                await self.modem.hang_up()
            except AtError as exc:  # the caller may have hung up already; the call is recorded anyway
                log.info("modem %s: hanging up: %s", self.config.id, exc)
            if self._current is call:
                self._current = None  # it is over: a caller who redials at once is a new call
        try:
            self.store.calls.add(self.config.id, call.number, call.at, action, deliver=self._deliver)
            await self.store.commit()
        except Exception:
            log.exception("modem %s: the missed call from %s could not be journalled", self.config.id,
                          number(call.number or "?"))
            return
        self._metrics.call(self.config.id, action)
        log.info("modem %s: call from %s %s", self.config.id, number(call.number or "withheld"), action)
        if self._deliver:
            self._wake()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
