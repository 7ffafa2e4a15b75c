"""The bridge: wires modems, the journal and the HTTP side together; implements `Gateway` for the server.

Per modem: the driver (`Modem`), its event dispatcher (`ModemEvents`: inbound pipeline, report pipeline,
modem watch) and its sender (`ModemSender`). For everyone: the router and dlr-url delivery loops and the
housekeeping (reassembly timeouts, outbound expiry). See docs/architecture.md for the flows hop by hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from modembridge.at import Modem, ModemState
from modembridge.bridge.activity import Activity
from modembridge.bridge.balance import BalanceWatch
from modembridge.bridge.calls import CallWatch
from modembridge.bridge.delivery import DeliveryLoop, DeliveryQueue
from modembridge.bridge.events import ModemEvents
from modembridge.bridge.facts import JournalFacts
from modembridge.bridge.inbound import InboundPipeline, record_router_result
from modembridge.bridge.outbound import accept
from modembridge.bridge.pacing import Pacer, month_key
from modembridge.bridge.reassembly import settle_texts
from modembridge.bridge.reports import ReportPipeline, record_callback_result
from modembridge.bridge.selftest import SelfTests
from modembridge.bridge.sender import ModemSender
from modembridge.bridge.ussd import UssdSessions
from modembridge.bridge.watch import ModemWatch
from modembridge.config import Config
from modembridge.model import (
    REGISTERED,
    BridgeStatus,
    DeliveryOutcome,
    DeliveryReportEvent,
    DeliveryResult,
    DlrStatus,
    FeedEvent,
    InboundMessage,
    JournalCounts,
    MessageSummary,
    MessageView,
    MissedCall,
    ModemAction,
    QueueStatus,
    SelfTestResult,
    SendAccepted,
    SendRequest,
    SendUsage,
    SignalSample,
    SmscOutcome,
    UnknownModemError,
    UssdReply,
)
from modembridge.model.fleet import FleetTransport, FleetView
from modembridge.observe import LoopMonitor, Metrics
from modembridge.store import MatchedPart, OutboundPart, Store

if TYPE_CHECKING:
    from modembridge.bridge.fleet import FleetLink

log = logging.getLogger(__name__)

COUNTS_TTL = 5.0  # seconds the journal's per-state counts in /status may be stale
SIGNAL_EVERY = 60.0  # seconds between the signal samples the console's sparkline draws
SIGNAL_SAMPLES = 60  # the last hour
STALL_MEMORY = 600.0  # seconds /healthz reports the last event-loop stall

RouterDeliver = Callable[[InboundMessage], Awaitable[DeliveryResult]]
DlrDeliver = Callable[[DeliveryReportEvent], Awaitable[DeliveryResult]]
CallDeliver = Callable[[MissedCall], Awaitable[DeliveryResult]]


class Bridge:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        router: RouterDeliver | None,
        dlr: DlrDeliver | None,
        calls: CallDeliver | None = None,
        metrics: Metrics | None = None,
        modem_factory: Callable[..., Modem] = Modem,
        fleet: FleetTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics or Metrics()
        self._clock = clock
        self._rng = random.Random()
        self.fleet: FleetLink | None = None
        if fleet is not None:
            from modembridge.bridge.fleet import FleetLink  # here: only fleet mode loads it

            self.fleet = FleetLink(fleet, store, config, can_send=self.can_send, status=self.status,
                                   clock=clock, rng=self._rng)
        self.router_loop = self._router_loop(router) if router is not None else None
        self.dlr_loop = self._dlr_loop(dlr) if dlr is not None else None
        self.call_loop = self._call_loop(calls) if calls is not None else None
        self.modems: dict[str, Modem] = {}
        self.selftests = SelfTests(self.modems, self.submit)
        self.activity = Activity(clock=clock)
        self.reports = ReportPipeline(store, metrics=self.metrics, wake_callbacks=self._wake_callbacks,
                                      multipart=config.dlr.multipart, on_report=self._on_report)
        self.events: dict[str, ModemEvents] = {}
        self.senders: dict[str, ModemSender] = {}
        self.calls: dict[str, CallWatch] = {}
        self.pacers: dict[str, Pacer] = {}
        for mc in config.modems:
            modem = modem_factory(mc, facts=JournalFacts(store, mc.id, clock),
                                  metrics=self.metrics.modem(mc.id))
            self.modems[mc.id] = modem
            self.calls[mc.id] = CallWatch(mc, modem, store, metrics=self.metrics, wake=self._wake_calls,
                                          deliver=self.call_loop is not None, clock=clock)
            self.events[mc.id] = ModemEvents(
                mc.id, modem, clock=clock, reports=self.reports,
                inbound=InboundPipeline(mc.id, store, hand_off=self._hand_to_router, metrics=self.metrics,
                                        claim=self.selftests.claims,
                                        on_message=functools.partial(self._on_inbound, mc.id)),
                watch=ModemWatch(mc.id, store, wake_senders=self._wake_senders), calls=self.calls[mc.id])
            self.pacers[mc.id] = Pacer(mc, store)
            self.senders[mc.id] = ModemSender(mc.id, modem, store, config.outbound,
                                              on_smsc=self._on_smsc, metrics=self.metrics,
                                              pacer=self.pacers[mc.id], fleet=self.fleet, clock=clock)
        self.ussd_sessions = UssdSessions(self.modems)
        self.balances = {mc.id: BalanceWatch(mc, self.modems[mc.id], store, self.ussd, self.ussd_cancel)
                         for mc in config.modems}
        self.loop_monitor = LoopMonitor()
        self._tasks: list[asyncio.Task[None]] = []
        self._counts_cache: tuple[float, JournalCounts, float | None] | None = None
        self.signal_history: dict[str, deque[SignalSample]] = {
            mc.id: deque(maxlen=SIGNAL_SAMPLES) for mc in config.modems}

    def _router_loop(self, deliver: RouterDeliver) -> DeliveryLoop[str, InboundMessage]:
        store, cfg = self.store, self.config.router
        return DeliveryLoop(DeliveryQueue(
            name="router", due=lambda now, limit: [(m.message_id, m) for m in store.inbox.due(now, limit)],
            next_due_at=store.inbox.next_due_at, deliver=deliver,
            record=functools.partial(record_router_result, store, cfg.retry), commit=store.commit,
            concurrency=cfg.concurrency, breaker=cfg.retry), clock=self._clock)

    def _call_loop(self, deliver: CallDeliver) -> DeliveryLoop[int, MissedCall]:
        store, policy = self.store, self.config.router.retry

        def record(call_id: int, call: MissedCall, result: DeliveryResult, now: float, outage: bool) -> None:
            store.calls.mark(call_id, now, done=result.outcome is not DeliveryOutcome.RETRY,
                             detail=result.detail, policy=policy)

        return DeliveryLoop(DeliveryQueue(
            name="calls", due=store.calls.due, next_due_at=store.calls.next_due_at, deliver=deliver,
            record=record, commit=store.commit, concurrency=2), clock=self._clock)

    def _dlr_loop(self, deliver: DlrDeliver) -> DeliveryLoop[int, DeliveryReportEvent]:
        store = self.store
        return DeliveryLoop(DeliveryQueue(
            name="dlr", due=store.reports.due_callbacks, next_due_at=store.reports.next_callback_due_at,
            deliver=deliver, record=functools.partial(record_callback_result, store, self.config.dlr.retry),
            commit=store.commit, concurrency=4), clock=self._clock)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        now = self._clock()
        settle_texts(self.store, self.store.inbox.without_text())  # journalled by a version before v6
        recovered = self.store.outbox.recover_interrupted(now, self.config.outbound.unknown_policy)
        if recovered:
            log.warning("%d outbound part(s) were mid-send at the last stop: policy %r applied",
                        recovered, self.config.outbound.unknown_policy)
        self.store.commit_now()
        if self.fleet is not None:
            await self.fleet.start()  # FleetMisconfigured: a Redis that would lose sends; refuse to run
            self._spawn(self.fleet.sync_loop(), "fleet-sync")
            self._spawn(self.fleet.lease_loop(), "fleet-leases")
            self._spawn(self.fleet.heartbeat_loop(), "fleet-heartbeat")
        for modem_id, modem in self.modems.items():
            self._spawn(modem.run(), f"modem:{modem_id}")
            self._spawn(self.events[modem_id].run(), f"events:{modem_id}")
            self._spawn(self.senders[modem_id].run(), f"sender:{modem_id}")
            if self.balances[modem_id].enabled:
                self._spawn(self.balances[modem_id].run(), f"balance:{modem_id}")
        for name, loop in (("router", self.router_loop), ("dlr", self.dlr_loop), ("calls", self.call_loop)):
            if loop is not None:
                self._spawn(loop.run(), name)
        self._spawn(self._housekeeping_loop(), "housekeeping")
        self._spawn(self.loop_monitor.run(), "loop-monitor")
        self._spawn(self._sample_signal(), "signal-samples")

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
        """Graceful: modems finish the exchange in progress, then the tasks stop and the journal commits
        (fleet mode: the jobs not begun go back to the shared queue)."""
        await asyncio.gather(*(m.stop() for m in self.modems.values()), return_exceptions=True)
        for watch in self.calls.values():
            watch.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.store.commit_now()
        if self.fleet is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.fleet.leave(), 5.0)
            with contextlib.suppress(Exception):
                await self.fleet.flush()
            await self.fleet.close()

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
            log.warning("%d incomplete concatenated message(s) released after the reassembly timeout",
                        len(released))
        expired = self.store.outbox.expire(now)
        if expired:
            log.warning("%d outbound part(s) expired before any modem could send them", expired)
        self.store.usage.forget_before(month_key(now))  # last month's recipients no longer count
        await self.store.commit()
        if released:
            self._hand_to_router(None)

    async def _housekeeping_loop(self) -> None:
        """Reassembly timeouts and outbound expiry that no modem activity would otherwise trigger."""
        interval = max(1.0, min(60.0, self.config.inbound.reassembly_timeout / 10))
        while True:
            try:
                await self._housekeeping()
            except Exception:
                log.exception("housekeeping failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)

    # -- wake-ups between the pipelines --------------------------------------------------------------

    def _hand_to_router(self, message: InboundMessage | None, written: Awaitable[bool] | None = None) -> bool:
        """A message not journalled yet (the fast path, with `written`; see DeliveryLoop.offer): hand it
        to a free router slot, True if one took it. None: a message became due, wake the loop to look."""
        if self.router_loop is None:
            return False
        if message is None:
            self.router_loop.wakeup.poke()
            return False
        return self.router_loop.offer(message.message_id, message, written)

    def _wake_calls(self) -> None:
        if self.call_loop is not None:
            self.call_loop.wakeup.poke()

    def _wake_callbacks(self) -> None:
        if self.dlr_loop is not None:
            self.dlr_loop.wakeup.poke()

    def _wake_senders(self) -> None:
        for sender in self.senders.values():
            sender.wakeup.poke()

    # -- Gateway (what the HTTP server calls) -----------------------------------------------------

    async def submit(self, request: SendRequest) -> SendAccepted:
        routable = self.send_modem_ids()
        if request.modem is not None and request.modem not in routable:
            raise UnknownModemError(f"unknown modem {request.modem!r}; configured: {', '.join(routable)}")
        if self.fleet is not None:
            accepted = await self.fleet.submit(request)
        else:
            accepted = await accept(self.store, self.config.outbound, request, self._clock(), self._rng)
        if not accepted.duplicate:
            self.metrics.send_accepted(request.source)
            log.info("outbound message=%s accepted to=%d recipient(s) parts=%d via=%s%s", accepted.message_id,
                     len(accepted.recipients), accepted.parts, request.source,
                     " into the fleet queue" if self.fleet is not None else "")
            self._wake_senders()
        return accepted

    def send_modem_ids(self) -> tuple[str, ...]:
        if self.fleet is None:
            return tuple(self.modems)
        return tuple(sorted(self.fleet.fleet_modems))

    def can_send(self, modem_id: str) -> bool:
        """The modem could send a part now: ready, not paused, under its quotas."""
        modem, sender = self.modems.get(modem_id), self.senders.get(modem_id)
        if modem is None or sender is None or sender.paused or modem.state is not ModemState.READY:
            return False
        return not self.pacers[modem_id].gate(self._clock()).quota

    async def fleet_view(self) -> FleetView | None:
        if self.fleet is None:
            return None
        return await self.fleet.view()

    def message(self, message_id: str) -> MessageView | None:
        return self.store.views.message(message_id)

    def modem_ids(self) -> tuple[str, ...]:
        return tuple(self.modems)

    def messages(self, *, direction: Literal["in", "out"], state: str | None, query: str | None,
                 limit: int) -> list[MessageSummary]:
        return self.store.views.recent(direction=direction, state=state, query=query, limit=limit)

    def _usage(self, modem_id: str) -> SendUsage:
        usage = self.pacers[modem_id].usage(self._clock())
        return replace(usage, waiting="paused by an operator") if self.senders[modem_id].paused else usage

    def _on_smsc(self, part: OutboundPart, outcome: SmscOutcome, now: float) -> None:
        self.reports.smsc_outcome(part, outcome, now)
        self.selftests.smsc(part.message_id, outcome)
        what = f"part {part.seq}/{part.total} " + (f"sent, mr {outcome.mr}" if outcome.accepted
                                                    else f"failed: {outcome.reason}")
        self.activity.publish("sent" if outcome.accepted else "failed", message_id=part.message_id,
                              modem_id=part.modem_id or "", number=part.recipient, text=what)

    def _on_report(self, part: MatchedPart, kind: DlrStatus) -> None:
        self.selftests.report(part.message_id, kind)
        self.activity.publish("report", message_id=part.message_id, modem_id=part.modem_id,
                              number=part.recipient, text=f"part {part.seq}/{part.total} {kind.name.lower()}")

    def _on_inbound(self, modem_id: str, message_id: str, sender: str, text: str) -> None:
        self.activity.publish("in", message_id=message_id, modem_id=modem_id, number=sender, text=text)

    def feed(self, after: int) -> list[FeedEvent]:
        return self.activity.since(after)

    async def feed_wait(self, after: int, timeout: float) -> None:
        await self.activity.wait(after, timeout)

    async def retry(self, message_id: str) -> bool:
        now = self._clock()
        done = self.store.outbox.retry(message_id, now) or self.store.inbox.retry(message_id, now)
        if done:
            self.store.history.add(message_id, now, "retry", "queued again by an operator")
            await self.store.commit()
            self._wake_senders()
            self._hand_to_router(None)
            log.info("message=%s retried by an operator", message_id)
        return done

    async def modem_action(self, modem_id: str, action: ModemAction) -> None:
        modem, sender = self.modems.get(modem_id), self.senders.get(modem_id)
        if modem is None or sender is None:
            raise UnknownModemError(f"unknown modem {modem_id!r}")
        log.warning("modem %s: %s by an operator", modem_id, action)
        if action in ("pause", "resume"):
            sender.paused = action == "pause"
            if sender.paused:
                self.store.outbox.release_modem(modem_id)  # unstarted recipients may go elsewhere
                await self.store.commit()
            sender.wakeup.poke()
            self._wake_senders()
        elif modem.state is not ModemState.READY:  # it is recovering already: a later reset would surprise
            raise ValueError(f"modem {modem_id} is {modem.state.value}: {action} it once it is ready")
        elif action == "reinit":
            modem.reinitialize("re-initialised by an operator")
        else:
            modem.reset("reset by an operator")

    async def cancel(self, message_id: str) -> bool:
        now = self._clock()
        done = self.store.outbox.cancel(message_id, now)
        if done:
            self.store.history.add(message_id, now, "cancelled", "its queued parts cancelled by an operator")
            await self.store.commit()
            log.info("message=%s cancelled by an operator", message_id)
        return done

    async def selftest(self, modem_id: str, to: str | None, timeout: float) -> SelfTestResult:
        return await self.selftests.run(modem_id, to, timeout)

    async def ussd(self, modem_id: str, code: str, session: str | None) -> UssdReply:
        return await self.ussd_sessions.request(modem_id, code, session)

    async def ussd_cancel(self, modem_id: str) -> bool:
        return await self.ussd_sessions.cancel(modem_id)

    def liveness(self) -> str:
        """"ok", and the last time the event loop could not run (within STALL_MEMORY seconds), with the
        journal's slow COMMIT when it explains it: a health check that timed out then learns why."""
        stall = self.loop_monitor.last
        now = time.time()
        if stall is None or now - stall.at > STALL_MEMORY:
            return "ok"
        text = f"ok: the event loop stalled for {stall.seconds:.1f} s, {now - stall.at:.0f} s ago"
        commit = self.store.slow_commit
        if commit is not None and abs(commit[0] - stall.at) <= stall.seconds + 1.0:
            text += f" (a journal COMMIT took {commit[1]:.1f} s: the disk was slow or frozen)"
        return text

    def readiness(self) -> tuple[bool, str]:
        if not self.store.writable():
            return False, "the journal is not writable"
        if self.fleet is not None and not self.fleet.healthy:
            return False, f"fleet: sends are refused: {self.fleet.problem}"
        registered = [mid for mid, m in self.modems.items()
                      if m.state is ModemState.READY and m.registration in REGISTERED]
        if not registered:
            return False, "no modem is ready and registered"
        return True, f"ready: {', '.join(registered)}"

    def status(self) -> BridgeStatus:
        now = time.monotonic()
        if self._counts_cache is None or now - self._counts_cache[0] > COUNTS_TTL:
            # counts() derives every outbound message's state: too slow for each /metrics scrape at 100k rows
            self._counts_cache = (now, self.store.views.counts(), self.store.outbox.oldest_queued())
        oldest = self._counts_cache[2]
        return BridgeStatus(
            modems={mid: m.snapshot() for mid, m in self.modems.items()},
            queues=QueueStatus(outbound_parts=self.store.outbox.queue_depths(),
                               journal=self._counts_cache[1],
                               oldest_queued=None if oldest is None else max(0.0, self._clock() - oldest)),
            counters=self.metrics.totals(),
            usage={mid: self._usage(mid) for mid in self.pacers},
            balance={mid: b.balance for mid, b in self.balances.items() if b.config.balance_ussd},
            router=self.router_loop.health() if self.router_loop is not None else None,
            signal={mid: tuple(samples) for mid, samples in self.signal_history.items()},
        )

    def sample_signal(self) -> None:
        """Each modem's signal now, into its last hour (the console's sparkline)."""
        at = datetime.fromtimestamp(self._clock(), UTC)
        for mid, modem in self.modems.items():
            if modem.signal_dbm is not None:
                self.signal_history[mid].append(SignalSample(at, modem.signal_dbm))

    async def _sample_signal(self) -> None:
        while True:
            self.sample_signal()
            await asyncio.sleep(SIGNAL_EVERY)
