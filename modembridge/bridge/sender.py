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

from modembridge.at import AtError, AtTimeout, CmsError, Modem, ModemState, ModemUnavailable, SendErrorClass
from modembridge.bridge.wakeup import Wakeup
from modembridge.config import OutboundConfig
from modembridge.http.metrics import Metrics
from modembridge.model import DlrStatus
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
        self.sent = 0
        self.failed = 0

    async def run(self) -> None:
        while True:
            try:
                await self._step()
            except Exception:  # the journal failed (disk full, I/O error) before anything was sent: try again
                log.exception("modem %s sender: retrying in %.0fs", self.modem_id, JOURNAL_RETRY_SECONDS)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    async def _step(self) -> None:
        if self.modem.state is not ModemState.READY:
            await self.wakeup.wait(None)
            return
        part = self.store.claim_next_part(self.modem_id, self._clock())
        if part is None:
            await self.store.commit()  # expiries found by the claim
            await self.wakeup.wait(self.store.next_outbound_due_at(self.modem_id))
            return
        await self.send_part(part)

    async def send_part(self, part: OutboundPart) -> None:
        self.store.mark_sending(part.part_id, self._clock())
        await self.store.commit()  # on failure the part is still queued: nothing was sent
        record = await self._send(part)
        while True:  # the modem's answer is known: it must reach the journal before the next part
            record()
            try:
                await self.store.commit()
                return
            except StoreError as exc:
                log.error("outbound part message=%s part=%d: recording the outcome failed (%s); retrying",
                          part.message_id, part.seq, exc)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    async def _send(self, part: OutboundPart) -> Callable[[], None]:
        """AT+CMGS; returns how to record the outcome (re-applied if the journal rolls it back)."""
        try:
            mr = await self.modem.send(part.pdu, part.tpdu_length)
        except CmsError as exc:
            return partial(self._on_cms_error, part, exc)
        except AtTimeout as exc:
            # Written but not confirmed: the network may or may not have it. Same as a crash mid-exchange.
            return partial(self._on_unconfirmed, part, f"AT+CMGS unconfirmed: {exc}")
        except (ModemUnavailable, AtError) as exc:
            return partial(self._retry, part, f"modem: {exc}", RETRY_SOON_SECONDS)
        return partial(self._on_sent, part, mr)

    def _on_sent(self, part: OutboundPart, mr: int) -> None:
        self.store.mark_sent(part.part_id, mr, self._clock())
        self.sent += 1
        self._metrics.outbound_sent.labels(self.modem_id).inc()
        log.info(
            "outbound part message=%s to=%s part=%d/%d modem=%s sent mr=%d",
            part.message_id, part.recipient, part.seq, part.total, self.modem_id, mr,
        )  # fmt: skip
        self._on_outcome(part, DlrStatus.SMSC_ACK, f"mr={mr}")

    def _on_cms_error(self, part: OutboundPart, exc: CmsError) -> None:
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
            self.store.mark_part_unknown(part.part_id, self._clock(), reason)
            log.warning("outbound part message=%s part=%d unknown: %s", part.message_id, part.seq, reason)

    def _retry(self, part: OutboundPart, reason: str, delay: float, *, unconfirmed: bool = False) -> None:
        if exhausted(self.config.retry, part.attempts + 1):
            self._fail(part, f"{reason} (gave up after {part.attempts + 1} attempts)")
            return
        self.store.mark_part_retry(part.part_id, self._clock(), reason, delay, unconfirmed=unconfirmed)
        self._metrics.outbound_retried.labels(self.modem_id).inc()
        log.info(
            "outbound part message=%s part=%d retry in %.1fs: %s", part.message_id, part.seq, delay, reason
        )

    def _fail(self, part: OutboundPart, reason: str) -> None:
        self.store.mark_part_failed(part.part_id, self._clock(), reason)
        self.failed += 1
        self._metrics.outbound_failed.labels(self.modem_id).inc()
        log.warning(
            "outbound part message=%s to=%s part=%d failed: %s",
            part.message_id,
            part.recipient,
            part.seq,
            reason,
        )
        self._on_outcome(part, DlrStatus.SMSC_REJECT, reason)
