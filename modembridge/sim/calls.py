"""Incoming voice calls on the simulated modem: ``RING`` (and ``+CLIP`` once ``AT+CLIP=1`` is set) every
``ring_interval`` seconds until ``ATH`` / ``AT+CHUP`` or the caller gives up (``NO CARRIER``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modembridge.sim.clock import Handle

if TYPE_CHECKING:
    from modembridge.sim.engine import ModemEngine

RING_INTERVAL = 3.0  # seconds between RINGs, as networks ring
CALLER_GIVES_UP = 30.0  # seconds a caller lets it ring


@dataclass
class Call:
    number: str
    started: float  # the simulator clock at the first RING
    rings: int = 0
    hung_up_at: float | None = None  # when ATH / AT+CHUP ended it (None: still ringing, or the caller left)
    hung_up_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"from": self.number, "started": self.started, "rings": self.rings,
                "hung_up_after": None if self.hung_up_at is None else self.hung_up_at - self.started,
                "hung_up_by": self.hung_up_by}


class Calls:
    def __init__(self, engine: ModemEngine, ring_interval: float = RING_INTERVAL) -> None:
        self.e = engine
        self.ring_interval = ring_interval
        self.clip = False  # AT+CLIP=1
        self.current: Call | None = None
        self.history: list[Call] = []
        self._timer: Handle | None = None

    def ring(self, number: str) -> None:
        """A call comes in from `number` (ignored while another one rings)."""
        if self.current is not None:
            return
        self.current = Call(number, self.e.scheduler.time())
        self.history.append(self.current)
        self._ring()

    def _ring(self) -> None:
        call = self.current
        if call is None:
            return
        if self.e.scheduler.time() - call.started >= CALLER_GIVES_UP:
            self.caller_hangs_up()
            return
        call.rings += 1
        lines = ["RING"] + ([f'+CLIP: "{call.number}",{145 if call.number.startswith("+") else 129},,,,0']
                           if self.clip else [])
        self.e.urc(*lines)
        self._timer = self.e.later(self.ring_interval, self._ring)

    def hang_up(self, command: str) -> bool:
        """ATH / AT+CHUP: True when a ringing call ended."""
        call = self.current
        if call is None:
            return False
        call.hung_up_at, call.hung_up_by = self.e.scheduler.time(), command
        self._end()
        self.e.notify("call-ended")
        return True

    def caller_hangs_up(self) -> None:
        if self.current is not None:
            self._end()
            self.e.urc("NO CARRIER")

    def _end(self) -> None:
        self.e.cancel(self._timer)
        self._timer = None
        self.current = None
