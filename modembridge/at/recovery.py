"""The recovery ladder: which step to take after a modem fault, and how long to wait before it (no I/O).

A fault is noticed by a failed ping (``AT``), a command that timed out, a failed initialisation or a lost
port. Each consecutive failure climbs one rung, so the cheap remedies are tried first and a modem that
needs a reset gets one within seconds, not minutes:

1. ``reinit``: on the open port, leave any prompt (ESC), resynchronise and run the init sequence again.
2. ``reopen``: close the port and open it again (a USB modem that re-enumerated, a wedged tty driver).
3. ``reset``: restart the module (``AT+CFUN=1,1`` or the profile's command), then reopen.

After a reset the ladder goes on alternating reopen and reset, with a delay doubling up to ``max_delay``,
until the modem is READY again: a modem that stays broken is retried for ever, but gently.
A lost port is not a rung: it is reopened as soon as the device node is back (see ``Modem``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Rung(Enum):
    REINIT = "reinit"
    REOPEN = "reopen"
    RESET = "reset"


@dataclass(frozen=True)
class Step:
    rung: Rung
    delay: float  # seconds to wait before taking it
    failures: int  # consecutive failures so far, this one included


class RecoveryLadder:
    """Consecutive-failure counter that maps the n-th failure to a rung and a delay."""

    FIRST = (Rung.REINIT, Rung.REOPEN, Rung.RESET)

    def __init__(self, min_delay: float = 0.5, max_delay: float = 60.0) -> None:
        if min_delay < 0 or max_delay < min_delay:
            raise ValueError("need 0 <= min_delay <= max_delay")
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.failures = 0

    def failed(self) -> Step:
        """Record one more consecutive failure; the step to take next."""
        self.failures += 1
        n = self.failures
        if n <= len(self.FIRST):
            rung = self.FIRST[n - 1]
            delay = 0.0 if rung is Rung.REINIT else self.min_delay * (n - 1)
        else:
            beyond = n - len(self.FIRST)  # 1, 2, 3 ... after the first reset
            rung = Rung.REOPEN if beyond % 2 else Rung.RESET
            delay = self.min_delay * 2.0 ** (beyond + 1)
        return Step(rung, min(delay, self.max_delay), n)

    def escalate_to(self, rung: Rung) -> Step:
        """Skip to at least ``rung`` (e.g. commands keep timing out although the modem answers AT: reset)."""
        target = self.FIRST.index(rung) + 1
        if self.failures < target - 1:
            self.failures = target - 1
        return self.failed()

    def recovered(self) -> None:
        """The modem is READY again: the next fault starts at the bottom."""
        self.failures = 0
