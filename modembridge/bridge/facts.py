"""The modem drivers' durable facts (last SIM seen, a rejected PIN) kept in the journal, so they survive
restarts."""

from __future__ import annotations

from collections.abc import Callable

from modembridge.store import Store


class JournalFacts:
    """modembridge.at.facts.ModemFacts for one modem, in the journal's ``modem_fact`` table."""

    def __init__(self, store: Store, modem_id: str, clock: Callable[[], float]) -> None:
        self.store = store
        self.modem_id = modem_id
        self._clock = clock

    def recall(self, key: str) -> str | None:
        return self.store.facts.get(self.modem_id, key)

    async def remember(self, key: str, value: str | None) -> None:
        self.store.facts.set(self.modem_id, key, value, self._clock())
        await self.store.commit()
