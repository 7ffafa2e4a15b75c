"""A ModemEngine on a ManualScheduler, driven with plain bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modembridge.sim.clock import ManualScheduler
from modembridge.sim.engine import ModemEngine, SimConfig
from modembridge.sim.profiles import get_profile
from modembridge.sim.storage import Storage

T0 = datetime(2026, 11, 28, 9, 30, 0, tzinfo=UTC)


class Rig:
    def __init__(self, profile: str = "generic", state: Path | None = None,
                 capacity: dict[str, int] | None = None, **kw: Any) -> None:
        kw.setdefault("seed", 1)
        kw.setdefault("timestamp_clock", lambda: T0)
        prof = get_profile(profile)
        self.clock = ManualScheduler()
        self.out = bytearray()
        self.storage = Storage(state, capacity=capacity, index_base=prof.index_base)
        self.e = ModemEngine(SimConfig(profile=prof, **kw), self.storage, self.clock, self.out.extend)
        self.e.power_on()
        self.clock.advance(5)
        self.take()

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data

    def io(self, data: bytes | str, advance: float = 0.0) -> bytes:
        """Feed bytes (a str gets a CR appended), run timers due within ``advance``, return the output."""
        if isinstance(data, str):
            data = data.encode() + b"\r"
        self.e.feed(data)
        self.clock.advance(advance)
        return self.take()

    def quiet(self) -> Rig:
        """Echo off, for compact assertions."""
        self.io("ATE0")
        return self
