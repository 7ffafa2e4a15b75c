"""The bridge: wires modems, the journal and the HTTP side together; implements `Gateway` for the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from modembridge.at import Modem, ModemState
from modembridge.bridge.delivery import DeliveryLoop, DeliveryQueue
from modembridge.bridge.facts import JournalFacts
from modembridge.bridge.inbound import InboundReader
from modembridge.bridge.reassembly import settle_texts
from modembridge.bridge.sender import ModemSender
from modembridge.config import Config
from modembridge.model import (
    BridgeStatus,
    DeliveryOutcome,
    DeliveryReportEvent,
    DeliveryResult,
    DlrStatus,
    InboundMessage,
    JournalCounts,
    MessageView,
    QueueStatus,
    SendAccepted,
    SendRequest,
    UnknownModemError,
)
from modembridge.observe import Metrics
from modembridge.sms import StatusReport, encode_submit, segment_info
from modembridge.store import OutboundPart, Store, UnknownMessageError

log = logging.getLogger(__name__)

COUNTS_TTL = 5.0  # seconds the journal's per-state counts in /status may be stale

RouterDeliver = Callable[[InboundMessage], Awaitable[DeliveryResult]]
DlrDeliver = Callable[[DeliveryReportEvent], Awaitable[DeliveryResult]]


class Bridge:
    """One Modem, InboundReader and ModemSender per configured modem, plus the two HTTP delivery loops."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        router: RouterDeliver | None,
        dlr: DlrDeliver | None,
        metrics: Metrics | None = None,
        modem_factory: Callable[..., Modem] = Modem,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics or Metrics()
        self._clock = clock
        self._rng = random.Random()
        self.modems: dict[str, Modem] = {}
        self.readers: dict[str, InboundReader] = {}
        self.senders: dict[str, ModemSender] = {}
        for mc in config.modems:
            modem = modem_factory(mc, facts=JournalFacts(store, mc.id, clock),
                                  metrics=self.metrics.modem(mc.id))
            self.modems[mc.id] = modem
            self.readers[mc.id] = InboundReader(
                mc.id,
                modem,
                store,
                on_message=self._on_inbound,
                on_report=self._on_status_report,
                on_state=self._on_modem_state,
                metrics=self.metrics,
                clock=clock,
            )
            self.senders[mc.id] = ModemSender(
                mc.id,
                modem,
                store,
                config.outbound,
                on_outcome=self._on_smsc_outcome,
                metrics=self.metrics,
                clock=clock,
            )
        self.router_loop: DeliveryLoop[str, InboundMessage] | None = None
        if router is not None:
            self.router_loop = DeliveryLoop(
                DeliveryQueue(
                    name="router",
                    due=lambda now, limit: [(m.message_id, m) for m in store.inbox.due(now, limit)],
                    next_due_at=store.inbox.next_due_at,
                    deliver=router,
                    record=self._record_router_result,
                    commit=store.commit,
                    concurrency=config.router.concurrency,
                    breaker=config.router.retry,
                ),
                clock=clock,
            )
        self.dlr_loop: DeliveryLoop[int, DeliveryReportEvent] | None = None
        if dlr is not None:
            self.dlr_loop = DeliveryLoop(
                DeliveryQueue(
                    name="dlr",
                    due=store.reports.due_callbacks,
                    next_due_at=store.reports.next_callback_due_at,
                    deliver=dlr,
                    record=self._record_dlr_result,
                    commit=store.commit,
                    concurrency=4,
                ),
                clock=clock,
            )
        self._tasks: list[asyncio.Task[None]] = []
        self._counts_cache: tuple[float, JournalCounts] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        now = self._clock()
        settle_texts(self.store, self.store.inbox.without_text())  # journalled by a version before v6
        recovered = self.store.outbox.recover_interrupted(now, self.config.outbound.unknown_policy)
        if recovered:
            log.warning(
                "%d outbound part(s) were mid-send at the last stop: policy %r applied",
                recovered,
                self.config.outbound.unknown_policy,
            )
        self.store.commit_now()
        for modem_id, modem in self.modems.items():
            self._spawn(modem.run(), f"modem:{modem_id}")
            self._spawn(self.readers[modem_id].run(), f"inbound:{modem_id}")
            self._spawn(self.senders[modem_id].run(), f"sender:{modem_id}")
        if self.router_loop is not None:
            self._spawn(self.router_loop.run(), "router")
        if self.dlr_loop is not None:
            self._spawn(self.dlr_loop.run(), "dlr")
        self._spawn(self._housekeeping_loop(), "housekeeping")

    async def stop_deliveries(self) -> None:
        """First step of a graceful stop: no new HTTP deliveries; those in flight finish (the site may still
        call our sendsms from inside them, so the HTTP server stays up until this returns)."""
        await asyncio.gather(*(
            loop.drain(timeout)
            for loop, timeout in ((self.router_loop, self.config.router.timeout + 1.0),
                                  (self.dlr_loop, self.config.dlr.timeout + 1.0))
            if loop is not None
        ))  # fmt: skip

    async def stop(self) -> None:
        """Graceful: modems finish the exchange in progress, then the tasks stop and the journal commits."""
        await asyncio.gather(*(m.stop() for m in self.modems.values()), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.store.commit_now()

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("task %s crashed", name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def _housekeeping(self) -> None:
        now = self._clock()
        released = self.store.inbox.expire_incomplete(now, self.config.inbound.reassembly_timeout)
        settle_texts(self.store, released)
        if released:
            log.warning(
                "%d incomplete concatenated message(s) released after the reassembly timeout", len(released)
            )
        expired = self.store.outbox.expire(now)
        if expired:
            log.warning("%d outbound part(s) expired before any modem could send them", expired)
        await self.store.commit()
        if released:
            self._poke_router()

    async def _housekeeping_loop(self) -> None:
        """Reassembly timeouts and outbound expiry that no modem activity would otherwise trigger."""
        interval = max(1.0, min(60.0, self.config.inbound.reassembly_timeout / 10))
        while True:
            try:
                await self._housekeeping()
            except Exception:
                log.exception("housekeeping failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)

    # -- events from the modem side --------------------------------------------------------------

    def _on_inbound(self, message: InboundMessage | None) -> None:
        """A new inbound message: hand it straight to a free router slot, or wake the loop to look."""
        if self.router_loop is None:
            return
        if message is None or not self.router_loop.offer(message.message_id, message):
            self.router_loop.wakeup.poke()

    def _poke_router(self) -> None:
        if self.router_loop is not None:
            self.router_loop.wakeup.poke()

    def _poke_senders(self) -> None:
        for sender in self.senders.values():
            sender.wakeup.poke()

    def _on_modem_state(self, modem_id: str, state: ModemState, reason: str) -> None:
        log.debug("modem %s: %s (%s)", modem_id, state.name.lower(), reason)  # the driver logs it at info
        if state is not ModemState.READY:
            released = self.store.outbox.release_modem(modem_id)
            if released:
                self.store.commit_now()
                log.warning(
                    "modem %s down: %d queued recipient(s) handed to the other modems", modem_id, released
                )
        self._poke_senders()

    async def _on_status_report(self, modem_id: str, report: StatusReport, pdu: str) -> None:
        now = self._clock()
        matched = self.store.reports.match(modem_id, report.mr, report.recipient, now)
        if matched is None:
            log.warning(
                "modem %s: status report mr=%d for %s matches no sent part (PDU %s)",
                modem_id,
                report.mr,
                report.recipient,
                pdu,
            )
            await self.store.commit()
            return
        final = not report.pending
        self.store.reports.record(
            matched.part_id, status=report.status, final=final, now=now, raw_pdu=pdu
        )
        kind = (
            DlrStatus.DELIVERED
            if report.delivered
            else DlrStatus.FAILED
            if report.failed
            else DlrStatus.BUFFERED
        )
        self.metrics.report_received(modem_id, kind.name.lower())
        log.info(
            "delivery report message=%s part=%d/%d to=%s: %s (status 0x%02X)",
            matched.message_id,
            matched.seq,
            matched.total,
            matched.recipient,
            kind.name.lower(),
            report.status,
        )
        if matched.dlr_url and matched.dlr_mask & kind:
            self._queue_dlr(
                matched.dlr_url,
                kind,
                matched.message_id,
                matched.recipient,
                modem_id,
                str(report.mr),
                f"status=0x{report.status:02X}",
                matched.seq,
                matched.total,
                now,
            )
        await self.store.commit()

    def _on_smsc_outcome(self, part: OutboundPart, kind: DlrStatus, detail: str) -> None:
        """SMSC accepted (8) or rejected (16) a part: Kannel's intermediate delivery reports."""
        if part.dlr_url and part.dlr_mask & kind:
            self._queue_dlr(
                part.dlr_url,
                kind,
                part.message_id,
                part.recipient,
                part.modem_id or "",
                detail.removeprefix("mr="),
                detail,
                part.seq,
                part.total,
                self._clock(),
            )

    def _queue_dlr(
        self,
        url: str,
        kind: DlrStatus,
        message_id: str,
        recipient: str,
        modem_id: str,
        smsc_id: str,
        reply: str,
        seq: int,
        total: int,
        now: float,
    ) -> None:
        event = DeliveryReportEvent(
            url_template=url,
            status=kind,
            message_id=message_id,
            recipient=recipient,
            modem_id=modem_id,
            smsc_message_id=smsc_id,
            at=datetime.fromtimestamp(now, UTC),
            reply=reply,
            part=seq,
            parts=total,
        )
        self.store.reports.add_callback(event, now)
        if self.dlr_loop is not None:
            self.dlr_loop.wakeup.poke()

    # -- outcomes of HTTP deliveries ---------------------------------------------------------------

    def _record_router_result(
        self, message_id: str, msg: InboundMessage, result: DeliveryResult, now: float, outage: bool
    ) -> None:
        try:
            self._record_router_outcome(message_id, msg, result, now, outage)
        except UnknownMessageError:
            # handed over by the fast path, but its row never committed: the SMS is still on the SIM and
            # is read (and posted) again under the same id
            log.info("inbound message=%s: %s, but its journal commit failed: it comes again",
                     message_id, result.outcome.value)

    def _record_router_outcome(
        self, message_id: str, msg: InboundMessage, result: DeliveryResult, now: float, outage: bool
    ) -> None:
        if result.outcome is DeliveryOutcome.DELIVERED:
            self.store.inbox.mark_delivered(message_id, now)
            log.info(
                "inbound message=%s from modem=%s parts=%d delivered", message_id, msg.modem_id, msg.parts
            )
        elif result.outcome is DeliveryOutcome.REJECTED:
            self.store.inbox.mark_rejected(message_id, now, result.detail)
            log.warning("inbound message=%s rejected by the router: %s", message_id, result.detail)
        else:
            next_at = self.store.inbox.mark_retry(
                message_id, now, result.detail, self.config.router.retry, count_hold=not outage
            )
            if next_at is None:
                log.error("inbound message=%s dead after retries: %s", message_id, result.detail)
            else:
                log.info("inbound message=%s retry in %.1fs: %s", message_id, next_at - now, result.detail)

    def _record_dlr_result(
        self, callback_id: int, event: DeliveryReportEvent, result: DeliveryResult, now: float, outage: bool
    ) -> None:
        done = result.outcome is not DeliveryOutcome.RETRY
        self.store.reports.mark_callback(
            callback_id, now, done=done, detail=result.detail, policy=self.config.dlr.retry
        )

    # -- Gateway (what the HTTP server calls) -----------------------------------------------------

    async def submit(self, request: SendRequest) -> SendAccepted:
        if request.modem is not None and request.modem not in self.modems:
            raise UnknownModemError(f"unknown modem {request.modem!r}; configured: {', '.join(self.modems)}")
        now = self._clock()
        segments = segment_info(request.text)
        validity = timedelta(seconds=request.validity) if request.validity else None
        pdus = {
            recipient: [
                (p.hex, p.tpdu_length)
                for p in encode_submit(
                    recipient,
                    request.text,
                    status_report=request.status_report or bool(request.dlr_mask & 3),
                    validity=validity,
                    flash=request.flash,
                    concat_ref=self._rng.randrange(256),
                )
            ]
            for recipient in request.recipients
        }
        expiry = (
            min(float(request.validity), self.config.outbound.expiry)
            if request.validity
            else self.config.outbound.expiry
        )
        accepted = self.store.outbox.add(
            request, pdus, encoding=segments.encoding, now=now, expires_at=now + expiry
        )
        await self.store.commit()
        if not accepted.duplicate:
            self.metrics.send_accepted(request.source)
            log.info(
                "outbound message=%s accepted to=%d recipient(s) parts=%d via=%s",
                accepted.message_id,
                len(accepted.recipients),
                accepted.parts,
                request.source,
            )
            self._poke_senders()
        return accepted

    def message(self, message_id: str) -> MessageView | None:
        return self.store.views.message(message_id)

    def modem_ids(self) -> tuple[str, ...]:
        return tuple(self.modems)

    def readiness(self) -> tuple[bool, str]:
        if not self.store.writable():
            return False, "the journal is not writable"
        registered = [
            mid
            for mid, m in self.modems.items()
            if m.state is ModemState.READY and m.registration in ("home", "roaming")
        ]
        if not registered:
            return False, "no modem is ready and registered"
        return True, f"ready: {', '.join(registered)}"

    def status(self) -> BridgeStatus:
        now = time.monotonic()
        if self._counts_cache is None or now - self._counts_cache[0] > COUNTS_TTL:
            # counts() derives every outbound message's state: too slow for each /metrics scrape at 100k rows
            self._counts_cache = (now, self.store.views.counts())
        return BridgeStatus(
            modems={mid: m.snapshot() for mid, m in self.modems.items()},
            queues=QueueStatus(outbound_parts=self.store.outbox.queue_depths(),
                               journal=self._counts_cache[1]),
            counters=self.metrics.totals(),
        )
