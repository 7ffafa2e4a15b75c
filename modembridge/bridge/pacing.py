"""One modem's pacing and quotas: how fast it may send, how many parts a day, how many distinct
recipients a month ([[modem]] max_parts_per_minute, send_jitter, max_parts_per_day,
max_recipients_per_month). The counters live in the journal (store.usage), written with each part's
`sending` mark, so they survive a restart; days and months are the host's local calendar.

The sender asks :meth:`Pacer.gate` before it claims a part. A quota that is reached never fails a part:
the parts only this modem may carry wait `queued` with the reason and the next allowed time, and the
others are left to modems under their quotas (SIM rotation).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from modembridge.config import ModemConfig
from modembridge.model import SendUsage
from modembridge.store import Store


@dataclass(frozen=True)
class _Day:
    """One local calendar day, [start, end), and its journal keys."""

    start: float
    end: float
    day: str
    month: str


_today = _Day(0.0, 0.0, "", "")


def _calendar(now: float) -> _Day:
    """The local day holding `now`; its keys are worked out once a day, not for every part sent.

    (A time zone changed at run time, TZ and time.tzset(), takes effect when the cached day ends.)"""
    global _today
    d = _today
    if not d.start <= now < d.end:
        local = datetime.fromtimestamp(now)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        # min(): where local midnight does not exist (a DST jump at 00:00) `start` can map past `now`
        d = _today = _Day(min(start, now), next_day(now), local.strftime("%Y-%m-%d"), local.strftime("%Y-%m"))
    return d


def day_key(now: float) -> str:
    return _calendar(now).day


def month_key(now: float) -> str:
    return _calendar(now).month


def next_day(now: float) -> float:
    """The local midnight after `now`."""
    today = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=1, hours=1)).replace(hour=0).timestamp()  # +1 h: safe across DST


def next_month(now: float) -> float:
    """The local midnight starting the month after `now`'s."""
    first = datetime.fromtimestamp(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1).timestamp()


@dataclass(frozen=True)
class Gate:
    """What the modem may do now."""

    wait_until: float | None = None  # claim nothing before this (None: claim now)
    reason: str | None = None  # why it waits, or why only known recipients
    quota: bool = False  # a quota (day), not pacing: the parts bound to this modem wait with the reason
    known_only: str | None = None  # a month: at the recipient cap, only recipients of that month


class Pacer:
    def __init__(self, config: ModemConfig, store: Store, *, rng: random.Random | None = None) -> None:
        self.modem_id = config.id
        self.config = config
        self.store = store
        self._rng = rng or random.Random()
        self._pause = self._next_pause()  # the spacing before the next part (pacing plus a jitter sample)

    def _next_pause(self) -> float:
        c = self.config
        spacing = 60.0 / c.max_parts_per_minute if c.max_parts_per_minute > 0 else 0.0
        return spacing + (self._rng.uniform(0.0, c.send_jitter) if c.send_jitter > 0 else 0.0)

    def gate(self, now: float) -> Gate:
        c = self.config
        if not (c.max_parts_per_minute or c.send_jitter or c.max_parts_per_day or c.max_recipients_per_month):
            return Gate()
        usage = self.store.usage.counts(self.modem_id, day=day_key(now), month=month_key(now))
        if c.max_parts_per_day and usage.day_parts >= c.max_parts_per_day:
            return Gate(next_day(now), f"max_parts_per_day {c.max_parts_per_day} reached", quota=True)
        if usage.last_send_at is not None and self._pause > 0 and usage.last_send_at + self._pause > now:
            return Gate(usage.last_send_at + self._pause, "pacing")
        if c.max_recipients_per_month and usage.month_recipients >= c.max_recipients_per_month:
            return Gate(reason=f"max_recipients_per_month {c.max_recipients_per_month} reached",
                        known_only=month_key(now))
        return Gate()

    def sending(self, number: str, now: float) -> None:
        """A part to `number` is about to be written (inside the transaction of its `sending` mark)."""
        self.store.usage.record_send(self.modem_id, number, day=day_key(now), month=month_key(now), now=now)
        self._pause = self._next_pause()

    def usage(self, now: float) -> SendUsage:
        """The counters and caps for /status and /metrics."""
        c = self.config
        usage = self.store.usage.counts(self.modem_id, day=day_key(now), month=month_key(now))
        gate = self.gate(now)
        return SendUsage(
            sent_today=usage.day_parts, max_parts_per_day=c.max_parts_per_day,
            recipients_this_month=usage.month_recipients, max_recipients_per_month=c.max_recipients_per_month,
            max_parts_per_minute=c.max_parts_per_minute,
            next_send_at=datetime.fromtimestamp(gate.wait_until).astimezone() if gate.wait_until else None,
            waiting=gate.reason)
