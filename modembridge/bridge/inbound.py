"""One modem's inbound side: every PDU the modem stores or pushes is decoded, committed, and only then
deleted from the SIM (or acknowledged with +CNMA). Status reports go to the report handler.

A part that cannot be decoded is committed with its raw PDU and the error, and its slot is freed too:
it stays visible in the journal, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from modembridge.at import (
    AtError,
    MessageDirect,
    MessageStored,
    Modem,
    ModemEvent,
    ModemState,
    ReportDirect,
    ReportStored,
    StateChanged,
    SweepNeeded,
)
from modembridge.bridge.reassembly import settle_texts
from modembridge.model import InboundMessage
from modembridge.observe import Metrics
from modembridge.sms import Deliver, PduError, StatusReport, decode_pdu
from modembridge.store import PartFields, Store

log = logging.getLogger(__name__)

JOURNAL_RETRY_SECONDS = 1.0  # pause after a failed journal write before sweeping again
EARLY_HEAD_START_TURNS = 8  # loop turns an early router delivery gets before the commit blocks the loop

ReportHandler = Callable[[str, StatusReport, str], Awaitable[None]]


class InboundReader:
    def __init__(
        self,
        modem_id: str,
        modem: Modem,
        store: Store,
        *,
        on_message: Callable[[InboundMessage | None], None],  # a message to deliver now, or None: look
        on_report: ReportHandler,
        on_state: Callable[[str, ModemState, str], None],
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.modem_id = modem_id
        self.modem = modem
        self.store = store
        self._on_message = on_message
        self._on_report = on_report
        self._on_state = on_state
        self._clock = clock
        self._metrics = metrics

    async def run(self) -> None:
        while True:
            event = await self.modem.events.get()
            try:
                await self.handle(event)
            except AtError as exc:
                # The slot stays on the SIM; the next sweep (after re-init, or periodic) picks it up again.
                log.warning(
                    "modem %s: %s while handling %s; left for the next sweep", self.modem_id, exc, event
                )
            except Exception:
                # The journal failed (disk full, I/O error): nothing was deleted or acknowledged, so the
                # message stays on the SIM (or the network re-sends an unacknowledged +CMT). Sweep again
                # after a pause rather than wait for the periodic sweep.
                log.exception("modem %s: handling %s failed; sweeping again shortly", self.modem_id, event)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)
                self.modem.events.put_nowait(SweepNeeded("after a journal failure"))

    async def handle(self, event: ModemEvent) -> None:
        match event:
            case MessageStored(mem=mem, index=index) | ReportStored(mem=mem, index=index):
                stored = await self.modem.read(mem, index)
                if stored is not None:
                    await self.process(stored.pdu, mem=mem, index=index, length=stored.length)
                    await self.modem.delete(mem, index)
            case MessageDirect(pdu=pdu, length=length) | ReportDirect(pdu=pdu, length=length):
                await self.process(pdu, mem="", index=-1, length=length)
                await self.modem.ack()
            case SweepNeeded(reason=reason):
                stored_all = await self.modem.list_stored()
                if stored_all:
                    log.info("modem %s: sweep (%s) found %d stored", self.modem_id, reason, len(stored_all))
                for stored in stored_all:
                    await self.process(stored.pdu, mem=stored.mem, index=stored.index, length=stored.length)
                    await self.modem.delete(stored.mem, stored.index)
            case StateChanged(state=state, reason=reason):
                self._on_state(self.modem_id, state, reason)

    async def process(self, pdu: str, *, mem: str, index: int, length: int | None = None) -> None:
        """Decode and journal one PDU; returns once it is committed (so the caller may free the slot).

        `length` is the TPDU length the modem printed: it tells the codec whether the modem included
        the SMSC prefix (some do not).
        """
        now = self._clock()
        try:
            decoded = decode_pdu(pdu, tpdu_length=length or None)
        except PduError as exc:
            self._metrics.inbound_undecodable(self.modem_id)
            log.warning(
                "modem %s: undecodable PDU in %s/%d kept in the journal: %s", self.modem_id, mem, index, exc
            )
            await self._keep_unusable(pdu, mem, index, now, str(exc))
            return
        if isinstance(decoded, StatusReport):
            await self._on_report(self.modem_id, decoded, pdu)
            return
        if not isinstance(decoded, Deliver):
            # An SMS-SUBMIT left in SIM storage (a draft or a copy of a sent message): not inbound traffic.
            await self._keep_unusable(
                pdu, mem, index, now, "SMS-SUBMIT in modem storage (not an inbound message)"
            )
            return
        result = self.store.inbox.add_part(
            modem_id=self.modem_id,
            mem=mem,
            index=index,
            pdu=pdu,
            received_at=now,
            part=part_fields(decoded),
            error=None,
        )
        if result.complete and not result.duplicate and decoded.concat is not None:
            settle_texts(self.store, [result.message_id])  # the last part arrived: decide the text once
        # Bound now, awaited below: if another writer's COMMIT fails meanwhile, it rolls back this part's
        # rows too, and durable() raises instead of letting the caller delete the SMS from the SIM.
        txn = self.store.transaction
        early = result.head and not result.duplicate
        if early:
            await self._deliver_before_commit(inbound_message(result.message_id, self.modem_id, decoded, now))
        await self.store.durable(txn)
        if result.duplicate:
            log.debug(
                "modem %s: part in %s/%d already journalled (message %s)",
                self.modem_id,
                mem,
                index,
                result.message_id,
            )
        else:
            self._metrics.inbound_part(self.modem_id, completes=result.complete)
            part = f"{decoded.concat.seq}/{decoded.concat.total}" if decoded.concat else "1/1"
            if result.complete:
                log.info(
                    "inbound message=%s modem=%s parts=%s received",
                    result.message_id,
                    self.modem_id,
                    decoded.concat.total if decoded.concat else 1,
                )
            else:
                log.debug(
                    "inbound message=%s modem=%s part %s received", result.message_id, self.modem_id, part
                )
        if result.complete and not early:
            self._on_message(None)

    async def _deliver_before_commit(self, message: InboundMessage) -> None:
        """The inbound fast path: hand a new single-part message to a free router slot before its row is
        durable, and give the request a head start on the COMMIT's fsync, which blocks the loop.

        Invariant: the router may see a message before the journal holds it, but only under an id a
        re-read reproduces (derived from the modem and the PDU), and the SIM slot (or the +CNMA) is
        released only after the part's own transaction committed. So a failed commit or a crash costs at
        most a second request with the same id, never the message.
        """
        self._on_message(message)
        # aiohttp needs a few loop turns to write the request; only a scheduling hint
        for _ in range(EARLY_HEAD_START_TURNS):
            await asyncio.sleep(0)

    async def _keep_unusable(self, pdu: str, mem: str, index: int, now: float, error: str) -> None:
        """Journal a PDU that is not a deliverable message, raw and with the reason, so it stays visible."""
        self.store.inbox.add_part(
            modem_id=self.modem_id, mem=mem, index=index, pdu=pdu, received_at=now, part=None, error=error
        )
        await self.store.commit()


def inbound_message(message_id: str, modem_id: str, deliver: Deliver, now: float) -> InboundMessage:
    """A single-part message as the router gets it (what the journal would give for it)."""
    return InboundMessage(
        message_id=message_id, sender=deliver.sender, text=deliver.text, modem_id=modem_id,
        received_at=datetime.fromtimestamp(now, UTC), smsc_timestamp=deliver.timestamp, parts=1,
        total_parts=1, encoding=deliver.encoding, smsc=deliver.smsc,
    )  # fmt: skip


def part_fields(deliver: Deliver) -> PartFields:
    concat = deliver.concat
    return PartFields(
        sender=deliver.sender,
        text=deliver.text,
        data=deliver.data,
        encoding=deliver.encoding,
        smsc=deliver.smsc,
        smsc_time=deliver.timestamp.timestamp(),
        concat=(concat.ref, concat.total, concat.seq, concat.ref_bits) if concat else None,
        message_class=deliver.message_class,
    )
