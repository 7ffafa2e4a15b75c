"""Durable modem facts: what a modem driver remembers across restarts of the process (the SIM it last saw,
a PIN the SIM rejected). ``at/`` knows no SQLite: the bridge passes a journal-backed implementation
(``modembridge.bridge.facts.JournalFacts``); tests and the probe use :class:`VolatileFacts`.

Keys used by the driver: ``imsi``, ``iccid`` (SIM swap detection) and ``pin_rejected`` (a fingerprint of
a configured PIN the SIM refused, so a daemon in a restart loop never tries it again: three wrong PINs lock
the SIM). The PIN itself is never stored.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


class ModemFacts(Protocol):
    def recall(self, key: str) -> str | None: ...

    async def remember(self, key: str, value: str | None) -> None:
        """Store (None: forget) durably before returning."""


class VolatileFacts:
    """Facts kept in the process only: forgotten when it ends."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def recall(self, key: str) -> str | None:
        return self.values.get(key)

    async def remember(self, key: str, value: str | None) -> None:
        if value is None:
            self.values.pop(key, None)
        else:
            self.values[key] = value


def pin_fingerprint(pin: str, modem_id: str) -> str:
    """A salted hash that recognises a PIN again without storing it (4 digits are still guessable by brute
    force from the journal: the journal must stay private, as it holds every message anyway)."""
    return hashlib.sha256(f"modembridge-pin\n{modem_id}\n{pin}".encode()).hexdigest()[:24]
