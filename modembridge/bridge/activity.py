"""What just happened, for the console's live feed: inbound messages, sent and failed parts, delivery
reports, newest last. In memory (the journal has the truth); a bounded ring, and an event a waiting
stream wakes on."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from modembridge.model import FeedEvent, FeedKind

KEEP = 200  # events kept for a console that connects later


class Activity:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._events: deque[FeedEvent] = deque(maxlen=KEEP)
        self._seq = 0
        self._changed = asyncio.Event()
        self._clock = clock

    def publish(self, kind: FeedKind, *, message_id: str, modem_id: str, number: str, text: str) -> None:
        self._seq += 1
        self._events.append(FeedEvent(self._seq, kind, datetime.fromtimestamp(self._clock(), UTC), message_id,
                                      modem_id, number, text[:160]))
        self._changed.set()  # wakes every stream waiting on this one; later waits take a new one
        self._changed = asyncio.Event()

    def since(self, seq: int) -> list[FeedEvent]:
        """The events after `seq` (0: all kept), oldest first."""
        return [e for e in self._events if e.seq > seq]

    async def wait(self, after: int, timeout: float) -> None:
        """Until an event after `after` is published (at once if one was), or `timeout` seconds."""
        if self._seq > after:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
