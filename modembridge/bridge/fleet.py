"""Fleet mode, this host's side: accept into the shared queue, pull work for idle modems, fence each AT+CMGS,
report outcomes, renew leases, give back what this host cannot send, publish a heartbeat.

The queue is a :class:`model.FleetTransport` (Redis Streams in ``modembridge/fleet/``). A job taken from
it is journalled locally (``store.fleet``) and sent by the modem's ordinary sender, with one more step:
just before AT+CMGS the queue records the part as ``sending`` for this host (``fence``), and refuses when
another host took the job over meanwhile. What the queue has not heard yet (outcomes, retries) is kept in
the journal and reported by the sync loop, however long Redis is away. Inbound messages and delivery
reports never touch the queue. See docs/fleet.md.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Literal, cast

from modembridge.bridge.outbound import encode_request
from modembridge.bridge.wakeup import Wakeup
from modembridge.config import Config
from modembridge.model import BridgeStatus, ClientIdConflict, SendAccepted, SendRequest
from modembridge.model.fleet import (
    FleetConflict,
    FleetJob,
    FleetMisconfigured,
    FleetTransport,
    FleetUnavailable,
    FleetView,
    PartReport,
    PartState,
)
from modembridge.sms import segment_info
from modembridge.store import OutboundPart, Store
from modembridge.store.fleet import HeldJob

log = logging.getLogger(__name__)

PULL_BLOCK = 1.0  # seconds an idle modem waits on the queue before it looks at its local work again
RETRY_PAUSE = 1.0  # seconds between tries while Redis is away
FENCE_RETRY = 5.0  # seconds a part waits when Redis could not record its `sending`
REAP_EVERY = 60.0  # seconds between housekeeping runs (expired jobs nobody took)
SYNC_BATCH = 500

Fence = Literal["ok", "lost", "unreachable"]


class FleetLink:
    def __init__(self, transport: FleetTransport, store: Store, config: Config, *,
                 can_send: Callable[[str], bool], status: Callable[[], BridgeStatus],
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        self.transport = transport
        self.store = store
        self.config = config
        self.host_id = transport.host_id
        self.local_modems = tuple(m.id for m in config.modems)
        self.fleet_modems: set[str] = set(self.local_modems)  # every modem id of the fleet (heartbeats)
        self.healthy = False
        self.problem: str | None = "not connected to the fleet's Redis yet"
        self._checked = False  # the Redis persistence check passed
        self._can_send = can_send
        self._status = status
        self._clock = clock
        self._rng = rng or random.Random()
        self.sync_wakeup = Wakeup()
        self.lease_interval = config.fleet.lease_seconds / 3
        self._reporting = asyncio.Lock()  # reports and fences, one at a time

    # -- health --------------------------------------------------------------------------------------

    def _down(self, exc: Exception) -> None:
        if self.healthy or self.problem != str(exc):
            log.error("fleet: %s", exc)
        self.healthy, self.problem = False, str(exc)

    def _up(self) -> None:
        if not self.healthy:
            log.warning("fleet: Redis reachable (host %s, group %s)", self.host_id, self.config.fleet.group)
        self.healthy, self.problem = True, None

    @property
    def checked(self) -> bool:
        return self._checked

    async def start(self) -> None:
        """Check the Redis persistence (FleetMisconfigured: refuse to run); Redis away, or this host id
        still heartbeating from a previous run, is not fatal: sends wait until the check passes."""
        try:
            await self._check(at_start=True)
        except FleetUnavailable as exc:
            self._down(exc)

    async def _check(self, at_start: bool = False) -> None:
        """The start checks (persistence, unique ids), once: until they passed nothing is accepted, taken,
        renewed or heartbeated. FleetUnavailable while they cannot pass."""
        if self._checked:
            return
        try:
            await self.transport.check(self.local_modems)
        except FleetMisconfigured as exc:
            if at_start:
                raise
            raise FleetUnavailable(str(exc)) from exc  # found once Redis came back: refuse sends, say why
        self.fleet_modems |= await self.transport.heartbeat(self._status(), self.local_modems)
        self._checked = True
        self._up()

    # -- accepting -----------------------------------------------------------------------------------

    async def submit(self, request: SendRequest) -> SendAccepted:
        """Into the shared queue, answered once Redis has it on disk; FleetUnavailable when it cannot."""
        try:
            await self._check()
        except FleetUnavailable as exc:
            self._down(exc)
            raise
        now = self._clock()
        cfg = self.config.outbound
        expiry = min(float(request.validity), cfg.expiry) if request.validity else cfg.expiry
        encoding = segment_info(request.text).encoding
        pdus = encode_request(request, self._rng)
        recipients = tuple(dict.fromkeys(request.recipients))
        message_id = uuid.uuid4().hex
        jobs = [FleetJob(
            job_id=f"{message_id}.{i}", message_id=message_id, recipient=r, pdus=tuple(pdus[r]),
            text=request.text, encoding=encoding, source=request.source, created_at=now,
            expires_at=now + expiry, status_report=request.status_report, validity=request.validity,
            flash=request.flash, pinned_modem=request.modem, dlr_url=request.dlr_url,
            dlr_mask=request.dlr_mask, sender=request.sender) for i, r in enumerate(recipients)]
        accepted = SendAccepted(message_id, recipients, encoding, max(len(j.pdus) for j in jobs))
        fingerprint = request.fingerprint() if request.client_id is not None else None
        try:
            outcome = await self.transport.submit(jobs, accepted, request.client_id, fingerprint)
        except FleetUnavailable as exc:
            self._down(exc)
            raise
        self._up()
        if outcome.accepted.duplicate and outcome.fingerprint not in (None, fingerprint):
            assert request.client_id is not None
            raise ClientIdConflict(request.client_id, outcome.accepted.message_id)
        return outcome.accepted

    # -- sending -------------------------------------------------------------------------------------

    async def take(self, modem_id: str, until: float | None) -> bool:
        """Called by modem_id's sender when it has nothing due to send (it is ready, not paused, under its
        quotas): wait on the queue up to PULL_BLOCK (or until local work is due); True when something
        was journalled for it. A modem still holding a job (waiting for a retry) takes no more: a SIM
        that keeps failing must not hoard the fleet's queue."""
        now = self._clock()
        block = PULL_BLOCK if until is None else max(0.0, min(PULL_BLOCK, until - now))
        if self.store.fleet.holds_open(modem_id) or not self._checked:
            await asyncio.sleep(block if self._checked else min(RETRY_PAUSE, max(block, 0.1)))
            return False
        try:
            taken = await self.transport.take(modem_id, block, self.config.outbound.unknown_policy)
        except FleetUnavailable as exc:
            self._down(exc)
            await asyncio.sleep(min(RETRY_PAUSE, block) if block > 0 else 0)
            return False
        self._up()
        if not taken:
            return False
        now = self._clock()
        work = False
        for t in taken:
            modem = t.modem or modem_id
            work = self.store.fleet.add_job(t.job, modem, now) or work
            how = f"taken over from host {t.taken_over_from} (its lease expired)" if t.taken_over_from \
                else "taken from the fleet queue"
            self.store.history.add(t.job.message_id, now, "fleet", f"{t.job.recipient}: {how} by host "
                                   f"{self.host_id} for modem {modem}")
            log.info("outbound message=%s job=%s %s for modem %s", t.job.message_id, t.job.job_id, how, modem)
        await self.store.commit()
        self.sync_wakeup.poke()  # parts the queue gave final (a takeover's unknowns) are reported as is
        return work

    async def fence(self, part: OutboundPart, modem_id: str) -> Fence:
        """Just before AT+CMGS: the queue records the part `sending` for this host and modem, or says the
        part is not this host's to send (lost); unreachable: nothing recorded, the part must wait."""
        assert part.fleet_job is not None
        if not self._checked:  # a second process under this host id must not send this host's jobs
            return "unreachable"
        async with self._reporting:  # no report read before this fence may land after it
            try:
                await self._flush()  # the previous part's outcome first: a takeover must not call it unknown
                attempt = await self.transport.fence(part.fleet_job, part.seq, modem_id)
            except FleetUnavailable as exc:
                self._down(exc)
                return "unreachable"
        self._up()
        if not attempt:
            return "lost"
        self.store.fleet.fenced(part.part_id, attempt)
        return "ok"

    def lost(self, job_ids: list[str], reason: str) -> None:
        now = self._clock()
        moved = self.store.fleet.move(job_ids, reason, now)
        for job_id in job_ids:
            self.store.history.add(job_id.rsplit(".", 1)[0], now, "fleet", reason)
        if moved:
            log.warning("fleet: %d part(s) of %d job(s) %s", moved, len(job_ids), reason)

    # -- background ----------------------------------------------------------------------------------

    async def flush(self) -> bool:
        """Report what the queue has not heard (committed outcomes, retries); False when there was
        nothing. FleetUnavailable when Redis is away: it stays in the journal for the next try."""
        if not self._checked:
            return False
        async with self._reporting:
            return await self._flush()

    async def _flush(self) -> bool:
        pending = self.store.fleet.unsynced(SYNC_BATCH)
        if not pending:
            return False
        by_job: dict[str, list[PartReport]] = defaultdict(list)
        for u in pending:
            by_job[u.job_id].append(PartReport(u.seq, cast(PartState, u.state), u.resent, u.attempt))
        try:
            await self.transport.report(by_job)
        except FleetUnavailable as exc:
            self._down(exc)
            raise
        self._up()
        self.store.fleet.heard(pending)
        return True

    async def sync_loop(self) -> None:
        """Report outcomes as soon as the sender commits them, however long Redis (or the journal) is
        away."""
        while True:
            try:
                reported = await self.flush()
                if reported:
                    await self.store.commit()
                    continue
            except FleetUnavailable:
                await asyncio.sleep(RETRY_PAUSE)
                continue
            except Exception:  # the journal failed (disk full): the states stay unreported, tried again
                log.exception("fleet: reporting outcomes failed; trying again in %.0f s", RETRY_PAUSE)
                await asyncio.sleep(RETRY_PAUSE)
                continue
            await self.sync_wakeup.wait(None, cap=1.0)

    def _can_carry(self, h: HeldJob, now: float) -> bool:
        """Some modem here may send this job's next part soon: ready, not paused, under its quotas, and
        the part is not waiting out a retry longer than a lease (a failing SIM gives it back)."""
        if h.next_due is not None and h.next_due > now + self.config.fleet.lease_seconds:
            return False
        if h.modem_id is not None:
            return self._can_send(h.modem_id)
        return any(self._can_send(m) for m in self.local_modems if h.pinned_modem in (None, m))

    async def lease_once(self) -> None:
        """Renew the leases of the jobs held here; move what another host took over; give back the jobs
        not begun that no modem here can send now (down, paused, at a quota, in a long retry)."""
        held = self.store.fleet.held()
        if not held:
            return
        lost = await self.transport.renew([h.job_id for h in held])
        if lost:
            self.lost(sorted(lost), f"moved: another host took it over (host {self.host_id}'s lease expired)")
        now = self._clock()
        fresh = self.store.fleet.held()  # again: a part may have been fenced during the renewal
        candidates = [h.job_id for h in fresh if h.job_id not in lost and h.open and not h.begun
                      and not self._can_carry(h, now)]
        if candidates:
            back = await self.transport.release(candidates)  # refuses a job whose part was fenced meanwhile
            if back:
                self.lost(sorted(back), f"given back to the fleet queue: no modem of host {self.host_id} "
                          "can send it now")
        await self.store.commit()

    async def lease_loop(self) -> None:
        reaped_at = 0.0
        while True:
            try:
                if self._checked and not await self.transport.same_server():
                    log.warning("fleet: Redis restarted: checking its persistence again")
                    self._checked = False
                if self._checked:
                    await self.lease_once()
                    if time.monotonic() - reaped_at > REAP_EVERY:
                        reaped_at = time.monotonic()
                        expired = await self.transport.reap()
                        if expired:
                            log.warning("fleet: %d queued job(s) expired before any modem took them", expired)
                else:
                    await self._check()
            except FleetUnavailable as exc:
                self._down(exc)
            except Exception:  # the journal failed: leases are renewed again at the next round
                log.exception("fleet: lease renewal failed; trying again in %.0f s", self.lease_interval)
            await asyncio.sleep(self.lease_interval)

    async def heartbeat_loop(self) -> None:
        while True:
            if self._checked:
                try:
                    fleet = await self.transport.heartbeat(self._status(), self.local_modems)
                except FleetConflict as exc:  # another process under this host id: stop fleet work
                    self._checked = False
                    self._down(exc)
                except FleetUnavailable as exc:
                    self._down(exc)
                else:
                    self._up()
                    self.fleet_modems = fleet | set(self.local_modems)
            await asyncio.sleep(self.lease_interval)

    async def leave(self) -> None:
        """A graceful stop: the jobs not begun go back to the queue now, not after a lease."""
        give_back = [h.job_id for h in self.store.fleet.held() if h.open and not h.begun]
        if not give_back:
            return
        try:
            back = await self.transport.release(give_back)
        except FleetUnavailable as exc:
            log.warning("fleet: could not give back %d job(s) at the stop (%s): others take them over "
                        "after the lease", len(give_back), exc)
            return
        if back:
            self.lost(sorted(back), f"given back to the fleet queue: host {self.host_id} stopped")
            self.store.commit_now()

    async def view(self) -> FleetView:
        return await self.transport.view()

    async def close(self) -> None:
        await self.transport.close()
