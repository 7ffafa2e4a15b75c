"""One modem's event dispatcher: what the driver reports goes to the pipeline that owns it.

A stored message (+CMTI, +CDSI, or found by a sweep) is read, a pushed one (+CMT, +CDS) comes with its
PDU; either way it is decoded here and handed to the inbound pipeline (an SMS-DELIVER), the report
pipeline (an SMS-STATUS-REPORT) or kept as unusable (undecodable, or an SMS-SUBMIT left in storage); a
ringing call goes to the call watch.
The slot is freed (``AT+CMGD``) or the PDU acknowledged (``AT+CNMA``) only after the pipeline returned,
which it does once the PDU's rows are durable. State changes go to the modem watch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from modembridge.at import (
    AtError,
    IncomingCall,
    MessageDirect,
    MessageStored,
    Modem,
    ModemEvent,
    ReportDirect,
    ReportStored,
    StateChanged,
    SweepNeeded,
)
from modembridge.bridge.calls import CallWatch
from modembridge.bridge.inbound import InboundPipeline, Slot
from modembridge.bridge.reports import ReportPipeline
from modembridge.bridge.watch import ModemWatch
from modembridge.sms import Deliver, PduError, StatusReport, decode_pdu

log = logging.getLogger(__name__)

JOURNAL_RETRY_SECONDS = 1.0  # pause after a failed journal write before sweeping again


class ModemEvents:
    def __init__(self, modem_id: str, modem: Modem, *, inbound: InboundPipeline, reports: ReportPipeline,
                 watch: ModemWatch, calls: CallWatch | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.modem_id = modem_id
        self.modem = modem
        self.inbound = inbound
        self.reports = reports
        self.watch = watch
        self.calls = calls
        self._clock = clock

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
                    await self.process(stored.pdu, Slot(mem, index), length=stored.length)
                    await self.modem.delete(mem, index)
            case MessageDirect() | ReportDirect():
                await self.process(event.pdu, Slot("", -1), length=event.length)
                await self.modem.ack(event.seq)  # not if the modem refused it meanwhile (it comes again)
            case SweepNeeded(reason=reason):
                stored_all = await self.modem.list_stored()
                if stored_all:
                    log.info("modem %s: sweep (%s) found %d stored", self.modem_id, reason, len(stored_all))
                for stored in stored_all:
                    await self.process(stored.pdu, Slot(stored.mem, stored.index), length=stored.length)
                    await self.modem.delete(stored.mem, stored.index)
            case StateChanged(state=state, reason=reason):
                self.watch.state_changed(state, reason)
            case IncomingCall(number=caller):
                if self.calls is not None:
                    self.calls.ringing(caller)

    async def process(self, pdu: str, slot: Slot, *, length: int | None = None) -> None:
        """Decode one PDU and hand it to its pipeline; returns once its rows are durable (so the caller may
        free the slot). `length` is the TPDU length the modem printed: it tells the codec whether the
        modem included the SMSC prefix (some do not)."""
        now = self._clock()
        try:
            decoded = decode_pdu(pdu, tpdu_length=length or None)
        except PduError as exc:
            log.warning("modem %s: undecodable PDU in %s/%d kept in the journal: %s",
                        self.modem_id, slot.mem, slot.index, exc)
            await self.inbound.keep_unusable(pdu, slot, now, str(exc), undecodable=True)
            return
        if isinstance(decoded, StatusReport):
            if not await self.reports.status_report(self.modem_id, decoded, pdu, now):
                await self.inbound.keep_unusable(pdu, slot, now, f"status report mr={decoded.mr} matches no "
                                                 "sent part", undecodable=False, unmatched_report=True)
        elif isinstance(decoded, Deliver):
            await self.inbound.journal(decoded, pdu, slot, now, length or None)
        else:  # an SMS-SUBMIT left in SIM storage (a draft or a copy of a sent message): not inbound traffic
            await self.inbound.keep_unusable(pdu, slot, now, "SMS-SUBMIT in modem storage (not an inbound "
                                             "message)", undecodable=False)
