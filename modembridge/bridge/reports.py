"""The report pipeline: what the network says about sent parts becomes journal state and dlr-url callbacks.

Two sources: a status report (SMS-STATUS-REPORT: delivered, failed, buffered), matched to the part by
the modem and its message reference; and the SMSC's own answer to ``AT+CMGS`` (accepted with a reference,
or refused), Kannel's intermediate reports 8 and 16. A send's ``dlr-mask`` selects which become a call to
its ``dlr-url``, journalled and made by the dlr delivery loop. A concatenated message makes one call per
report type and recipient (``[dlr] multipart = "message"``, the default) or one per part (``"part"``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from modembridge.config import RetryPolicy
from modembridge.model import DeliveryOutcome, DeliveryReportEvent, DeliveryResult, DlrStatus, SmscOutcome
from modembridge.observe import Metrics, number
from modembridge.sms import StatusReport
from modembridge.store import MatchedPart, OutboundPart, PartProgress, Store

log = logging.getLogger(__name__)

SETTLE_TURNS = 100  # loop turns a report waits for a send in progress on its modem to record its reference


def message_report_due(kind: DlrStatus, before: str | None, parts: Sequence[PartProgress]) -> bool:
    """Whether this part's news makes the one callback its message (to this recipient) gets for `kind`
    (``[dlr] multipart = "message"``). `parts`: every part, already updated; `before`: this part's report
    state before this report (for report kinds), so a repeated report calls nothing twice."""
    if kind is DlrStatus.SMSC_ACK:
        return all(p.state == "sent" for p in parts)
    if kind is DlrStatus.SMSC_REJECT:
        return sum(p.state == "failed" for p in parts) == 1
    if kind is DlrStatus.DELIVERED:
        return before != "delivered" and all(p.dlr_state == "delivered" for p in parts)
    if kind is DlrStatus.FAILED:
        return before != "failed" and sum(p.dlr_state == "failed" for p in parts) == 1
    return before is None and sum(p.dlr_state is not None for p in parts) == 1  # BUFFERED: the first news


class ReportPipeline:
    def __init__(self, store: Store, *, metrics: Metrics, wake_callbacks: Callable[[], None],
                 multipart: Literal["message", "part"] = "message",
                 on_report: Callable[[MatchedPart, DlrStatus], None] | None = None) -> None:
        self.store = store
        self._metrics = metrics
        self._wake_callbacks = wake_callbacks  # a callback was journalled: the dlr loop should look
        self.multipart = multipart
        self._on_report = on_report  # told of each matched report (the self-test waits for its one)

    async def status_report(self, modem_id: str, report: StatusReport, pdu: str, now: float) -> bool:
        """Journal a status report on its part (and its callback); returns once durable.

        False when it matches no sent part: nothing is written, and the caller keeps the raw PDU.
        """
        matched = self.store.reports.match(modem_id, report.mr, report.recipient, now)
        turns = 0
        while matched is None and turns < SETTLE_TURNS and self.store.reports.sending_on(modem_id):
            # A fast network: the report came in right behind the +CMGS answer, before the sender (on
            # this same loop) recorded the part's reference. Let it, then look again.
            await asyncio.sleep(0)
            turns += 1
            matched = self.store.reports.match(modem_id, report.mr, report.recipient, now)
        if matched is None:
            log.warning("modem %s: status report mr=%d for %s matches no sent part; kept in the journal",
                        modem_id, report.mr, number(report.recipient))
            self._metrics.report_unmatched(modem_id)
            return False
        before = self.store.reports.record(matched.part_id, status=report.status, final=not report.pending,
                                           now=now, raw_pdu=pdu)
        kind = DlrStatus.DELIVERED if report.delivered else DlrStatus.FAILED if report.failed \
            else DlrStatus.BUFFERED
        self.store.history.add(matched.message_id, now, "report", f"part {matched.seq}/{matched.total} to "
                               f"{matched.recipient}: {kind.name.lower()} (TP-ST 0x{report.status:02X})")
        if matched.dlr_url and matched.dlr_mask & kind and self._callback_due(matched.part_id, matched.total,
                                                                               kind, before):
            self._add_callback(DeliveryReportEvent(
                url_template=matched.dlr_url, status=kind, message_id=matched.message_id,
                recipient=matched.recipient, modem_id=modem_id, smsc_message_id=str(report.mr),
                at=datetime.fromtimestamp(now, UTC), reply=f"status=0x{report.status:02X}", part=matched.seq,
                parts=matched.total), now)
        await self.store.commit()
        self._metrics.report_received(modem_id, kind.name.lower())
        if self._on_report is not None:
            self._on_report(matched, kind)
        log.info("delivery report message=%s part=%d/%d to=%s: %s (status 0x%02X)", matched.message_id,
                 matched.seq, matched.total, number(matched.recipient), kind.name.lower(), report.status)
        return True

    def smsc_outcome(self, part: OutboundPart, outcome: SmscOutcome, now: float) -> None:
        """The SMSC accepted or refused a part: its callback, inside the sender's open transaction."""
        kind = outcome.status
        if not (part.dlr_url and part.dlr_mask & kind) or not self._callback_due(part.part_id, part.total,
                                                                                 kind, None):
            return
        smsc_id, reply = (str(outcome.mr), f"mr={outcome.mr}") if outcome.accepted else (outcome.reason,) * 2
        self._add_callback(DeliveryReportEvent(
            url_template=part.dlr_url, status=kind, message_id=part.message_id, recipient=part.recipient,
            modem_id=part.modem_id or "", smsc_message_id=smsc_id, at=datetime.fromtimestamp(now, UTC),
            reply=reply, part=part.seq, parts=part.total), now)

    def _callback_due(self, part_id: int, total: int, kind: DlrStatus, before: str | None) -> bool:
        if self.multipart == "part" or total <= 1:
            return True
        return message_report_due(kind, before, self.store.reports.siblings(part_id))

    def _add_callback(self, event: DeliveryReportEvent, now: float) -> None:
        self.store.reports.add_callback(event, now)
        self._wake_callbacks()


def record_callback_result(store: Store, policy: RetryPolicy, callback_id: int, event: DeliveryReportEvent,
                           result: DeliveryResult, now: float, outage: bool) -> None:
    """A dlr-url's answer, into the journal (the dlr queue's ``record``): any final answer ends it."""
    store.reports.mark_callback(callback_id, now, done=result.outcome is not DeliveryOutcome.RETRY,
                                detail=result.detail, policy=policy)
