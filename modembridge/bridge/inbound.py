"""The inbound pipeline: a decoded SMS-DELIVER part is journalled, grouped with its message, and the
message handed to the router once it is whole; the router's answers are recorded.

A part that cannot be used (undecodable, an SMS-SUBMIT in storage, a status report that matches no sent
part) is journalled raw with the reason and its slot freed too: it stays visible in the journal, never
silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from modembridge.bridge.reassembly import settle_texts
from modembridge.config import RetryPolicy
from modembridge.model import DeliveryOutcome, DeliveryResult, InboundMessage
from modembridge.observe import Metrics, number
from modembridge.sms import Deliver, decoding_ie, find_ports, find_special_indication
from modembridge.store import Disposition, PartFields, Store, UnknownMessageError

log = logging.getLogger(__name__)

SILENT_PID = 0x40  # TP-PID short message type 0
EARLY_HEAD_START_TURNS = 8  # loop turns an early router delivery gets before the journal work

# (a message not journalled yet, what its journal write will say) -> taken by a router slot; or
# (None, None): a journalled message became due
HandOff = Callable[[InboundMessage | None, Awaitable[bool] | None], bool]


@dataclass(frozen=True)
class Slot:
    """Where a PDU came from: a memory and index, or ("", -1) for one pushed in a +CMT/+CDS."""

    mem: str
    index: int


class InboundPipeline:
    """One modem's inbound messages, from a decoded part to a message the router can have."""

    def __init__(self, modem_id: str, store: Store, *, hand_off: HandOff, metrics: Metrics,
                 claim: Callable[[str, Deliver], str | None] | None = None,
                 on_message: Callable[[str, str, str], None] | None = None) -> None:
        self.modem_id = modem_id
        self.store = store
        self._hand_off = hand_off
        self._metrics = metrics
        self._claim = claim  # a self-test's message come back: the note to keep it with, else None
        self._on_message = on_message  # (message id, sender, text) of each message made whole

    async def journal(self, deliver: Deliver, pdu: str, slot: Slot, now: float,
                      tpdu_length: int | None = None) -> None:
        """Journal one part; returns once its own transaction committed (StoreError if it rolled back)."""
        fields = part_fields(deliver, tpdu_length)
        note = self._claim(self.modem_id, deliver) if self._claim is not None else None
        if note is not None:
            fields = replace(fields, disposition="selftest", note=note)
        early = False
        written: asyncio.Future[bool] | None = None
        try:
            if fields.disposition == "deliver" and (fields.concat is None or fields.concat[1] <= 1):
                early_id = self.store.inbox.early_delivery_id(self.modem_id, pdu, deliver.sender)
                if early_id is not None:
                    written = asyncio.get_running_loop().create_future()
                    early = await self._deliver_before_journal(
                        inbound_message(early_id, self.modem_id, deliver, now), written)
            result = self.store.inbox.add_part(modem_id=self.modem_id, mem=slot.mem, index=slot.index,
                                               pdu=pdu, received_at=now, part=fields, error=None)
        except BaseException:  # cancelled in the head start, or the write failed: the answer is not kept
            if written is not None and not written.done():
                written.set_result(False)
            raise
        if written is not None:
            written.set_result(True)
        # Bound now, awaited below: if another writer's COMMIT fails meanwhile, it rolls back this part's
        # rows too, and durable() raises instead of letting the caller free the slot.
        txn = self.store.transaction
        if fields.disposition != "deliver":
            await self.store.commit()
            if not result.duplicate:
                self._metrics.inbound_special(self.modem_id, SPECIAL_KIND[fields.disposition])
                log.info("inbound message=%s modem=%s from %s not for the router: %s", result.message_id,
                         self.modem_id, number(deliver.sender), fields.note)
            return
        if result.replaced:
            self._metrics.inbound_special(self.modem_id, "replaced")
        if result.complete and not result.duplicate and deliver.concat is not None:
            settle_texts(self.store, [result.message_id])  # the last part arrived: decide the text once
        await self.store.durable(txn)
        if result.duplicate:
            log.debug("modem %s: part in %s/%d already journalled (message %s)",
                      self.modem_id, slot.mem, slot.index, result.message_id)
            return
        self._metrics.inbound_part(self.modem_id, completes=result.complete)
        if result.complete:
            log.info("inbound message=%s modem=%s parts=%s received", result.message_id, self.modem_id,
                     deliver.concat.total if deliver.concat else 1)
            if self._on_message is not None:
                view = self.store.views.inbound(result.message_id) if deliver.concat else None
                self._on_message(result.message_id, deliver.sender, view.text if view else deliver.text)
            if not early:
                self._hand_off(None, None)
        else:
            part = f"{deliver.concat.seq}/{deliver.concat.total}" if deliver.concat else "1/1"
            log.debug("inbound message=%s modem=%s part %s received", result.message_id, self.modem_id, part)

    async def _deliver_before_journal(self, message: InboundMessage, written: asyncio.Future[bool]) -> bool:
        """The inbound fast path: hand a new single-part message to a free router slot before its rows are
        written, and give the request a head start on the journal's work (its INSERTs, then the
        COMMIT's fsync, which blocks the loop). True if a slot took it.

        Invariant: the router may see a message before the journal holds it, but only under an id a
        re-read reproduces (derived from the modem and the PDU), and the SIM slot (or the +CNMA) is
        released only after the part's own transaction committed. So a failed write or commit, or a
        crash, costs at most a second request with the same id, never the message. The router's answer
        is recorded only once the rows are written (`written`).
        """
        if not self._hand_off(message, written):
            return False
        # the delivery task needs a loop turn or two to write the request; only a scheduling hint
        for _ in range(EARLY_HEAD_START_TURNS):
            await asyncio.sleep(0)
        return True

    async def keep_unusable(self, pdu: str, slot: Slot, now: float, error: str, *, undecodable: bool,
                            unmatched_report: bool = False) -> None:
        """Journal a PDU that is not a deliverable message, raw and with the reason, so it stays visible
        (state 'unmatched' for a status report that matched no sent part, else 'undecodable')."""
        self.store.inbox.add_part(modem_id=self.modem_id, mem=slot.mem, index=slot.index, pdu=pdu,
                                  received_at=now, part=None, error=error,
                                  unusable="unmatched" if unmatched_report else "undecodable")
        await self.store.commit()
        if undecodable:
            self._metrics.inbound_undecodable(self.modem_id)


def record_router_result(store: Store, policy: RetryPolicy, message_id: str, msg: InboundMessage,
                         result: DeliveryResult, now: float, outage: bool) -> None:
    """The router's answer to one delivery, into the journal (the router queue's ``record``)."""
    try:
        store.inbox.state_of(message_id)  # journalled (the fast path may post before the commit)
        store.history.add(message_id, now, "router", f"{result.outcome.value}: {result.detail}")
        if result.outcome is DeliveryOutcome.DELIVERED:
            store.inbox.mark_delivered(message_id, now)
            log.info("inbound message=%s from modem=%s parts=%d delivered", message_id, msg.modem_id,
                     msg.parts)
        elif result.outcome is DeliveryOutcome.REJECTED:
            store.inbox.mark_rejected(message_id, now, result.detail)
            log.warning("inbound message=%s rejected by the router: %s", message_id, result.detail)
        elif store.inbox.state_of(message_id) == "replaced":  # replaced while it was on its way: no retry
            log.info("inbound message=%s was replaced meanwhile: not retried (%s)", message_id, result.detail)
        else:
            next_at = store.inbox.mark_retry(message_id, now, result.detail, policy, count_hold=not outage)
            if next_at is None:
                log.error("inbound message=%s dead after retries: %s", message_id, result.detail)
            else:
                log.info("inbound message=%s retry in %.1fs: %s", message_id, next_at - now, result.detail)
    except UnknownMessageError:
        # handed over by the fast path, but its row never committed: the SMS is still on the SIM and is
        # read (and posted) again under the same id
        log.info("inbound message=%s: %s, but its journal commit failed: it comes again",
                 message_id, result.outcome.value)


def inbound_message(message_id: str, modem_id: str, deliver: Deliver, now: float) -> InboundMessage:
    """A single-part message as the router gets it (what the journal would give for it)."""
    ports = find_ports(deliver.udh)
    binary = deliver.encoding == "8bit"
    return InboundMessage(
        message_id=message_id, sender=deliver.sender, text="" if binary else deliver.text, modem_id=modem_id,
        received_at=datetime.fromtimestamp(now, UTC), smsc_timestamp=deliver.timestamp, parts=1,
        total_parts=1, encoding=deliver.encoding, smsc=deliver.smsc,
        data=(deliver.data or b"") if binary else None, udh=other_ies(deliver),
        destination_port=ports.destination if ports else None, source_port=ports.source if ports else None,
        message_class=deliver.message_class, pid=deliver.pid,
    )  # fmt: skip


SPECIAL_KIND = {"discard": "silent", "indication": "indication", "selftest": "selftest"}


def disposition(deliver: Deliver) -> tuple[Disposition, str | None]:
    """Whether a part is for the router, and why not (23.040 9.2.3.9 TP-PID, 23.038 message waiting)."""
    if deliver.pid == SILENT_PID:
        return "discard", "a silent (Type 0) SMS: acknowledged and discarded, as 23.040 asks"
    indication = find_special_indication(deliver.udh)
    if indication is not None:
        return "indication", (f"message waiting indication: {indication.count} {indication.kind_name} "
                              "message(s)" + ("" if indication.store else " (discard the message)"))
    if deliver.mwi is not None:
        state = "on" if deliver.mwi.active else "off"
        return "indication", f"message waiting indication: {deliver.mwi.kind_name} {state}"
    return "deliver", None


def other_ies(deliver: Deliver) -> bytes:
    """The UDH's information elements other than those the codec used (concatenation, language tables),
    as in the PDU (iei, length, data ...)."""
    return b"".join(bytes([ie.iei, len(ie.data)]) + ie.data for ie in deliver.udh if not decoding_ie(ie))


def part_fields(deliver: Deliver, tpdu_length: int | None = None) -> PartFields:
    concat = deliver.concat
    ports = find_ports(deliver.udh)
    kind, note = disposition(deliver)
    return PartFields(
        sender=deliver.sender,
        text=deliver.text,
        data=deliver.data,
        encoding=deliver.encoding,
        smsc=deliver.smsc,
        smsc_time=deliver.timestamp.timestamp(),
        concat=(concat.ref, concat.total, concat.seq, concat.ref_bits) if concat else None,
        message_class=deliver.message_class,
        tpdu_length=tpdu_length,
        pid=deliver.pid,
        udh=other_ies(deliver),
        ports=(ports.destination, ports.source) if ports else None,
        disposition=kind,
        note=note,
    )
