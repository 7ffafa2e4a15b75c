"""A modem's prepaid balance, read by USSD every ``balance_interval`` seconds ([[modem]] balance_ussd,
balance_pattern, balance_low). A check that fails or does not parse is reported (status, log), never
fatal; the last answer survives a restart (a fact in the journal)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from modembridge.at import Modem
from modembridge.config import ModemConfig
from modembridge.model import Balance, UssdBusy, UssdReply, UssdUnavailable
from modembridge.store import Store

log = logging.getLogger(__name__)

FACT = "balance"  # the journal fact holding the last answer
BUSY_RETRY = 30.0  # seconds before trying again while an operator's USSD session holds the modem
Ussd = Callable[[str, str, "str | None"], Awaitable[UssdReply]]


def parse_amount(pattern: str, text: str) -> float | None:
    """The amount `pattern`'s group finds in `text` (a decimal comma is read as a point)."""
    m = re.search(pattern, text)
    if m is None or m.group("amount") is None:
        return None
    try:
        return float(m.group("amount").replace(",", "."))
    except ValueError:
        return None


class BalanceWatch:
    def __init__(self, config: ModemConfig, modem: Modem, store: Store, ussd: Ussd,
                 cancel: Callable[[str], Awaitable[bool]], *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.modem = modem
        self.store = store
        self._ussd = ussd
        self._cancel_session = cancel  # ends a USSD session through the sessions' owner
        self._clock = clock
        self.balance = self._remembered()

    @property
    def enabled(self) -> bool:
        return bool(self.config.balance_ussd and self.config.balance_interval > 0)

    def _remembered(self) -> Balance:
        raw = self.store.facts.get(self.config.id, FACT)
        try:
            data = json.loads(raw) if raw else {}
            at = datetime.fromtimestamp(float(data["at"]), UTC) if data.get("at") else None
            amount = float(data["amount"]) if data.get("amount") is not None else None
            return Balance(data.get("answer"), amount, at, self._low(amount), None)
        except (ValueError, TypeError, KeyError):
            return Balance(None, None, None, False, None)

    def _low(self, amount: float | None) -> bool:
        return amount is not None and self.config.balance_low > 0 and amount < self.config.balance_low

    async def run(self) -> None:
        while True:
            await self.modem.supervisor.ready.wait()
            try:
                delay = await self.check()
            except Exception as exc:  # the journal, the modem: reported, never the end of the checks
                self._failed(f"{type(exc).__name__}: {exc}")
                delay = BUSY_RETRY
            await asyncio.sleep(delay)

    async def check(self) -> float:
        """One balance check; returns the seconds until the next."""
        cid, code = self.config.id, self.config.balance_ussd
        try:
            reply = await self._ussd(cid, code, None)
        except UssdBusy:
            return BUSY_RETRY
        except UssdUnavailable as exc:
            self._failed(f"modem not ready: {exc}")
            return BUSY_RETRY
        if reply.status == "more":  # a menu where a balance was expected: do not leave it open
            await self._cancel()
        if reply.status not in ("done", "more", "ended") or not reply.text:
            self._failed(f"USSD {code} answered {reply.status}" + (f": {reply.text}" if reply.text else ""))
            return self.config.balance_interval
        amount = parse_amount(self.config.balance_pattern, reply.text)
        now = self._clock()
        if amount is None:
            self._failed(f"no amount in the answer to {code} (balance_pattern)", answer=reply.text, at=now)
            return self.config.balance_interval
        self.balance = Balance(reply.text, amount, datetime.fromtimestamp(now, UTC), self._low(amount), None)
        self.store.facts.set(cid, FACT, json.dumps({"answer": reply.text, "amount": amount, "at": now}), now)
        await self.store.commit()
        if self.balance.low:
            log.warning("modem %s: balance %.2f is below balance_low %.2f (%s)", cid, amount,
                        self.config.balance_low, reply.text)
        else:
            log.info("modem %s: balance %.2f", cid, amount)
        return self.config.balance_interval

    async def _cancel(self) -> None:
        try:
            await self._cancel_session(self.config.id)
        except Exception as exc:  # best effort: the network ends an unanswered menu itself
            log.debug("modem %s: ending the balance menu: %s", self.config.id, exc)

    def _failed(self, error: str, *, answer: str | None = None, at: float | None = None) -> None:
        """Reported, never fatal: the last good amount stays, with the error beside it."""
        b = self.balance
        when = datetime.fromtimestamp(at, UTC) if at is not None else b.at
        self.balance = Balance(answer if answer is not None else b.answer, b.amount, when, b.low, error)
        log.warning("modem %s: balance check: %s", self.config.id, error)
