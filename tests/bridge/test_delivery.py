"""The delivery loop's fast path: an entry offered before it is in the journal has its outcome recorded
only once the journal write says it is there, and not at all if the write failed."""

from __future__ import annotations

import asyncio

from modembridge.bridge.delivery import DeliveryLoop, DeliveryQueue
from modembridge.model import DeliveryOutcome, DeliveryResult


class Peer:
    """A peer that answers at once and a journal that records what it is told, as the loop sees them."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.recorded: list[tuple[str, DeliveryOutcome]] = []
        self.commits = 0

    async def deliver(self, item: str) -> DeliveryResult:
        self.delivered.append(item)
        return DeliveryResult(DeliveryOutcome.DELIVERED, 200, "HTTP 200")

    def record(self, key: str, item: str, result: DeliveryResult, now: float, outage: bool) -> None:
        self.recorded.append((key, result.outcome))

    async def commit(self) -> None:
        self.commits += 1

    def queue(self) -> DeliveryQueue[str, str]:
        return DeliveryQueue("test", due=lambda now, limit: [], next_due_at=lambda: None,
                             deliver=self.deliver, record=self.record, commit=self.commit)


async def settle(loop: DeliveryLoop[str, str]) -> None:
    async with asyncio.timeout(5):
        while loop._tasks:
            await asyncio.wait(set(loop._tasks))


async def test_the_outcome_waits_for_the_journal_write() -> None:
    peer = Peer()
    loop = DeliveryLoop(peer.queue())
    written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    assert loop.offer("m1", "hello", written)
    async with asyncio.timeout(5):
        while not peer.delivered:
            await asyncio.sleep(0)
    for _ in range(20):  # the answer is in; the rows are not: nothing may be recorded yet
        await asyncio.sleep(0)
    assert peer.recorded == []
    written.set_result(True)
    await settle(loop)
    assert peer.recorded == [("m1", DeliveryOutcome.DELIVERED)] and peer.commits == 1


async def test_a_failed_journal_write_drops_the_outcome_and_frees_the_slot() -> None:
    peer = Peer()
    loop = DeliveryLoop(peer.queue())
    written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    assert loop.offer("m1", "hello", written)
    written.set_result(False)
    await settle(loop)
    assert peer.delivered == ["hello"] and peer.recorded == []
    assert loop.offer("m1", "hello again")  # the key is free: the re-read entry can go out
    await settle(loop)
    assert peer.recorded == [("m1", DeliveryOutcome.DELIVERED)]
