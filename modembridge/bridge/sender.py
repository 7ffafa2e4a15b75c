"""One modem's sender: takes the next due part from the journal, sends it with AT+CMGS, records the outcome.

The part is committed as `sending` before AT+CMGS is written, so a crash in the exchange leaves it
`unknown` at the next start (see Store.recover_interrupted) instead of silently resending or losing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial

from modembridge.at import AtError, AtTimeout, Modem, ModemState, ModemUnavailable, SendErrorClass, SendFailed
from modembridge.bridge.wakeup import Wakeup
from modembridge.config import OutboundConfig
from modembridge.model import DlrStatus
from modembridge.observe import Metrics
from modembridge.retry import backoff_delay, exhausted
from modembridge.store import OutboundPart, Store, StoreError

log = logging.getLogger(__name__)

JOURNAL_RETRY_SECONDS = 1.0  # after a failed journal commit
RETRY_SOON_SECONDS = 3.0  # SIM busy and similar: the modem wants a short pause, not a backoff


class ModemSender:
    def __init__(
        self,
        modem_id: str,
        modem: Modem,
        store: Store,
        config: OutboundConfig,
        *,
        on_outcome: Callable[[OutboundPart, DlrStatus, str], None],
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.modem_id = modem_id
        self.modem = modem
        self.store = store
        self.config = config
        self.wakeup = Wakeup()
        self._on_outcome = on_outcome  # SMSC ack / reject, for dlr-mask 8 / 16 callbacks
        self._clock = clock
        self._metrics = metrics
        # the last modem answer, applied to the journal but not yet committed (re-applied after a rollback)
        self._outcome: Callable[[], None] | None = None

    async def run(self) -> None:
        while True:
            try:
                await self._step()
            except Exception:  # the journal failed (disk full, I/O error) before anything was sent: try again
                log.exception("modem %s sender: retrying in %.0fs", self.modem_id, JOURNAL_RETRY_SECONDS)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    async def _step(self) -> None:
        if self.modem.state is not ModemState.READY:
            await self._commit()
            await self.wakeup.wait(None)
            return
        part = self.store.outbox.claim_next_part(self.modem_id, self._clock())
        if part is None:
            await self._commit()  # the last outcome, and expiries found by the claim
            await self.wakeup.wait(self.store.outbox.next_due_at(self.modem_id))
            return
        await self.send_part(part)

    async def send_part(self, part: OutboundPart) -> None:
        # One COMMIT makes both the previous part's outcome and this part's `sending` durable (one fsync
        # between two exchanges, not two); nothing is written to the modem before it succeeded.
        self.store.outbox.mark_sending(part.part_id, self._clock())
        if not await self._commit():
            return  # rolled back: this part is still queued and is claimed again
        self._outcome = await self._send(part)
        self._outcome()  # committed with the next part's `sending`, or when the sender goes idle

    async def _commit(self) -> bool:
        """Commit; True if everything written since the last commit is durable.

        After a failure (everything since the last commit rolled back) the last modem answer is
        recorded again until it commits, and False says the rest (a part's `sending`) was lost.
        """
        try:
            await self.store.commit()
        except StoreError as exc:
            while True:
                log.error("modem %s sender: journal commit failed (%s); retrying in %.0fs",
                          self.modem_id, exc, JOURNAL_RETRY_SECONDS)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)
                if self._outcome is None:
                    return False
                self._outcome()
                try:
                    await self.store.commit()
                except StoreError as again:
                    exc = again
                    continue
                self._outcome = None
                return False
        self._outcome = None
        return True

    async def _send(self, part: OutboundPart) -> Callable[[], None]:
        """AT+CMGS; returns how to record the outcome (re-applied if the journal rolls it back)."""
        try:
            mr = await self.modem.send(part.pdu, part.tpdu_length)
        except SendFailed as exc:
            return partial(self._on_cms_error, part, exc)
        except AtTimeout as exc:
            # Written but not confirmed: the network may or may not have it. Same as a crash mid-exchange.
            return partial(self._on_unconfirmed, part, f"AT+CMGS unconfirmed: {exc}")
        except (ModemUnavailable, AtError) as exc:
            return partial(self._retry, part, f"modem: {exc}", RETRY_SOON_SECONDS)
        return partial(self._on_sent, part, mr)

    def _on_sent(self, part: OutboundPart, mr: int) -> None:
        self.store.outbox.mark_sent(part.part_id, mr, self._clock())
        self._metrics.part_sent(self.modem_id)
        log.info(
            "outbound part message=%s to=%s part=%d/%d modem=%s sent mr=%d",
            part.message_id, part.recipient, part.seq, part.total, self.modem_id, mr,
        )  # fmt: skip
        self._on_outcome(part, DlrStatus.SMSC_ACK, f"mr={mr}")

    def _on_cms_error(self, part: OutboundPart, exc: SendFailed) -> None:
        reason = f"+CMS ERROR: {exc.code} {exc.text}".strip()
        if exc.error_class is SendErrorClass.PERMANENT:
            self._fail(part, reason)
        elif exc.error_class is SendErrorClass.RETRY_SOON:
            self._retry(part, reason, RETRY_SOON_SECONDS)
        else:
            self._retry(part, reason, backoff_delay(self.config.retry, part.attempts + 1))

    def _on_unconfirmed(self, part: OutboundPart, reason: str) -> None:
        if self.config.unknown_policy == "resend":
            self._retry(part, reason, RETRY_SOON_SECONDS, unconfirmed=True)
        else:
            self.store.outbox.mark_unknown(part.part_id, self._clock(), reason)
            log.warning("outbound part message=%s part=%d unknown: %s", part.message_id, part.seq, reason)

    def _retry(self, part: OutboundPart, reason: str, delay: float, *, unconfirmed: bool = False) -> None:
        if exhausted(self.config.retry, part.attempts + 1):
            self._fail(part, f"{reason} (gave up after {part.attempts + 1} attempts)")
            return
        self.store.outbox.mark_retry(part.part_id, self._clock(), reason, delay, unconfirmed=unconfirmed)
        self._metrics.part_retried(self.modem_id)
        log.info(
            "outbound part message=%s part=%d retry in %.1fs: %s", part.message_id, part.seq, delay, reason
        )

    def _fail(self, part: OutboundPart, reason: str) -> None:
        self.store.outbox.mark_failed(part.part_id, self._clock(), reason)
        self._metrics.part_failed(self.modem_id)
        log.warning(
            "outbound part message=%s to=%s part=%d failed: %s",
            part.message_id,
            part.recipient,
            part.seq,
            reason,
        )
        self._on_outcome(part, DlrStatus.SMSC_REJECT, reason)
