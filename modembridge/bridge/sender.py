"""One modem's sender: takes the next due part from the journal, sends it with AT+CMGS, records the outcome.

The part is committed as `sending` before AT+CMGS is written, so a crash in the exchange leaves it
`unknown` at the next start (see Outbox.recover_interrupted) instead of silently resending or losing it.
What the modem answered becomes a :data:`PartOutcome`, recorded in the journal (and, if the journal
rolls it back, recorded again until it commits).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from modembridge.at import AtError, AtTimeout, Modem, ModemState, ModemUnavailable, SendErrorClass, SendFailed
from modembridge.bridge.pacing import Gate, Pacer, next_month
from modembridge.bridge.wakeup import Wakeup
from modembridge.config import OutboundConfig
from modembridge.model import SmscOutcome
from modembridge.observe import Metrics, number
from modembridge.retry import backoff_delay, exhausted
from modembridge.store import OutboundPart, Store, StoreError, Transaction

if TYPE_CHECKING:
    from modembridge.bridge.fleet import FleetLink

log = logging.getLogger(__name__)

JOURNAL_RETRY_SECONDS = 1.0  # after a failed journal commit
RETRY_SOON_SECONDS = 3.0  # SIM busy and similar: the modem wants a short pause, not a backoff


@dataclass(frozen=True)
class Sent:
    mr: int  # the message reference the SMSC gave


@dataclass(frozen=True)
class Refused:
    reason: str  # the network or the modem refuses this part for good


@dataclass(frozen=True)
class Retry:
    reason: str
    delay: float  # seconds before the next attempt
    unconfirmed: bool = False  # AT+CMGS may have gone out (policy 'resend')


@dataclass(frozen=True)
class Unconfirmed:
    reason: str  # AT+CMGS was written but not confirmed: the network may or may not have it


PartOutcome = Sent | Refused | Retry | Unconfirmed

SmscHook = Callable[[OutboundPart, SmscOutcome, float], None]  # the SMSC accepted or refused a part


class ModemSender:
    def __init__(
        self,
        modem_id: str,
        modem: Modem,
        store: Store,
        config: OutboundConfig,
        *,
        on_smsc: SmscHook,
        metrics: Metrics,
        pacer: Pacer | None = None,
        fleet: FleetLink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.modem_id = modem_id
        self.pacer = pacer
        self.fleet = fleet  # fleet mode: idle, it takes work from the shared queue
        self._holding: str | None = None  # the quota reason the parts bound to this modem wait with
        self.paused = False  # an operator paused sending on this modem
        self.pause_seen = asyncio.Event()  # set while the sender waits because it is paused
        self.modem = modem
        self.store = store
        self.config = config
        self.wakeup = Wakeup()
        self._on_smsc = on_smsc  # for dlr-mask 8 / 16 callbacks
        self._clock = clock
        self._metrics = metrics
        # the last modem answer, written into the journal but not yet committed, and the transaction holding
        # it (None: its write failed): written again until a commit includes it
        self._unsaved: tuple[OutboundPart, PartOutcome] | None = None
        self._unsaved_txn: Transaction | None = None

    async def run(self) -> None:
        while True:
            try:
                await self._step()
            except Exception:  # the journal failed (disk full, I/O error) before anything was sent: try again
                log.exception("modem %s sender: retrying in %.0fs", self.modem_id, JOURNAL_RETRY_SECONDS)
                await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    async def _step(self) -> None:
        if self.paused:
            await self._commit()
            self.pause_seen.set()
            await self.wakeup.wait(None)
            return
        self.pause_seen.clear()
        if self.modem.state is not ModemState.READY:
            await self._commit()
            await self.wakeup.wait(None)
            return
        now = self._clock()
        gate = self.pacer.gate(now) if self.pacer is not None else Gate()
        if gate.wait_until is not None:
            if gate.quota:
                self._hold(gate)
            await self._commit()
            await self.wakeup.wait(gate.wait_until)
            return
        self._holding = None
        part = self.store.outbox.claim_next_part(self.modem_id, now, known_in=gate.known_only)
        if part is None and gate.known_only is not None and gate.reason is not None:
            until = datetime.fromtimestamp(next_month(now)).astimezone().isoformat(timespec="seconds")
            reason = f"waiting: modem {self.modem_id} {gate.reason} (new recipients from {until})"
            self.store.outbox.note_recipient_cap(self.modem_id, gate.known_only, reason, now)
        if part is None:
            await self._commit()  # the last outcome, and expiries found by the claim
            if self.fleet is not None:
                self.fleet.sync_wakeup.poke()
            due = self.store.outbox.next_due_at(self.modem_id, known_in=gate.known_only)
            if self.fleet is not None and gate.known_only is None:  # at a recipient cap: no new numbers
                await self.fleet.take(self.modem_id, due)
            else:
                await self.wakeup.wait(due)
            return
        await self.send_part(part)

    def _hold(self, gate: Gate) -> None:
        """A quota is reached: the parts only this modem may carry wait with the reason; recipients it had
        not begun go back to the pool, for a modem under its quota (SIM rotation)."""
        assert gate.wait_until is not None and gate.reason is not None
        until = datetime.fromtimestamp(gate.wait_until).astimezone().isoformat(timespec="seconds")
        reason = f"waiting: modem {self.modem_id} {gate.reason}; next send at {until}"
        released = self.store.outbox.release_modem(self.modem_id)
        held = self.store.outbox.hold_for(self.modem_id, reason, gate.wait_until)
        if reason != self._holding:
            self._holding = reason
            log.warning("modem %s: %s (%d parts wait for it, %d recipients free for other modems)",
                        self.modem_id, reason, held, released)

    async def send_part(self, part: OutboundPart) -> None:
        # Fleet mode: the shared queue records `sending` first (else the part waits, nothing written here).
        if self.fleet is not None and part.fleet_job is not None:
            if not await self._fenced(part):
                return
            if not self.store.fleet.still_queued(part.part_id):  # cancelled or expired meanwhile
                return
        # One COMMIT makes both the previous part's outcome and this part's `sending` durable (one fsync
        # between two exchanges, not two). It runs while `AT+CMGS=<length>` goes out and the modem prompts:
        # the PDU is written only once the COMMIT succeeded (the channel awaits `durable` at the prompt).
        if self._outcome_lost():
            self._save()
            if self._outcome_lost():  # it cannot be written now: nothing is marked; written until it commits
                await self._commit()
                return
        now = self._clock()
        self.store.outbox.mark_sending(part.part_id, now)
        self.store.history.add(part.message_id, now, "attempt", f"part {part.seq}/{part.total} to "
                               f"{part.recipient}: AT+CMGS on {self.modem_id} (attempt {part.attempts + 1})")
        if self.pacer is not None:
            self.pacer.sending(part.recipient, now)
        if self._outcome_lost():  # SQLite rolled the transaction back under us (another writer's statement)
            self._save()  # into the transaction that now holds this part's mark
        txn = self.store.transaction
        if txn is None or self._outcome_lost():  # still not written: this part must not go without it
            self.store.abort("the previous part's outcome could not be written")  # this part's mark too
            await asyncio.sleep(JOURNAL_RETRY_SECONDS)
            await self._commit()
            return
        durable = asyncio.ensure_future(self._durable(txn))
        outcome = await self._send(part, asyncio.shield(durable))  # a cancelled send leaves it running
        if not await durable:  # rolled back: the PDU was withheld (or never reached); the part stays queued
            await asyncio.sleep(JOURNAL_RETRY_SECONDS)
            await self._commit()  # the previous answer is written again until it commits
            return
        self._unsaved = self._unsaved_txn = None  # the previous answer committed with this `sending`
        self._tell(part, outcome)  # counted and logged once, whatever the journal does next
        self._unsaved, self._unsaved_txn = (part, outcome), None
        self._save()  # committed with the next part's `sending`, or when the sender goes idle

    async def _fenced(self, part: OutboundPart) -> bool:
        """Fleet mode: the shared queue records the part `sending` for this host and modem, before this
        journal does and before AT+CMGS (a crash in between leaves it `sending` there, `queued` here: sent
        by this host after its restart, the unknown policy for any other). When Redis cannot be told the
        part waits; when the job is no longer this host's (another took it over) it is moved."""
        assert self.fleet is not None and part.fleet_job is not None
        verdict = await self.fleet.fence(part, self.modem_id)
        if verdict == "ok":
            return True
        now = self._clock()
        if verdict == "unreachable":
            from modembridge.bridge.fleet import FENCE_RETRY  # loaded already: fleet mode made self.fleet

            self.store.fleet.defer(part.part_id, "fleet: Redis unreachable, not sent yet", now, FENCE_RETRY)
        else:
            self.fleet.lost([part.fleet_job], "moved: the fleet queue gave it to another host or modem")
        await self._commit()
        return False

    def _save(self) -> None:
        """Write the last modem answer into the open transaction, and remember which transaction holds it."""
        assert self._unsaved is not None
        try:
            self._record(*self._unsaved)
        except Exception as exc:  # its transaction was rolled back: written again before the next commit
            log.error("modem %s sender: recording the outcome failed (%s); it is written again",
                      self.modem_id, exc)
            self._unsaved_txn = None
            return
        self._unsaved_txn = self.store.transaction

    def _outcome_lost(self) -> bool:
        """The last answer is not in the journal: its write failed, or its transaction was rolled back since
        (another write of the transaction failed half-way, or a COMMIT failed)."""
        _ = self.store.transaction  # notices a transaction SQLite rolled back by itself (and fails it)
        txn = self._unsaved_txn
        return self._unsaved is not None and (txn is None or txn.error is not None)

    async def _durable(self, txn: Transaction | None) -> bool:
        """True once `txn` committed; False (logged) if it was rolled back."""
        try:
            await self.store.durable(txn)
        except StoreError as exc:
            log.error("modem %s sender: journal commit failed (%s); the part is not sent", self.modem_id, exc)
            return False
        return True

    async def _commit(self) -> None:
        """Commit, the last modem answer included (written again if it was lost), until the answer is
        durable; failures are logged and retried every JOURNAL_RETRY_SECONDS."""
        while True:
            if self._outcome_lost():
                self._save()
            try:
                await self.store.commit()
            except StoreError as exc:
                log.error("modem %s sender: journal commit failed (%s); retrying in %.0fs",
                          self.modem_id, exc, JOURNAL_RETRY_SECONDS)
            else:
                if not self._outcome_lost():
                    self._unsaved = self._unsaved_txn = None
                    return
            await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    async def _send(self, part: OutboundPart, durable: Awaitable[bool]) -> PartOutcome:
        """AT+CMGS (the PDU only once `durable` says True), and what its answer means for the part."""
        try:
            return Sent(await self.modem.send(part.pdu, part.tpdu_length, durable))
        except SendFailed as exc:
            reason = f"+CMS ERROR: {exc.code} {exc.text}".strip()
            if exc.error_class is SendErrorClass.PERMANENT:
                return Refused(reason)
            delay = RETRY_SOON_SECONDS if exc.error_class is SendErrorClass.RETRY_SOON \
                else backoff_delay(self.config.retry, part.attempts + 1)
            return self._give_up(part, reason) or Retry(reason, delay)
        except AtTimeout as exc:
            # Written but not confirmed: the network may or may not have it. Same as a crash mid-exchange.
            reason = f"AT+CMGS unconfirmed: {exc}"
            if self.config.unknown_policy == "resend":
                return self._give_up(part, reason) or Retry(reason, RETRY_SOON_SECONDS, unconfirmed=True)
            return Unconfirmed(reason)
        except (ModemUnavailable, AtError) as exc:  # certainly not sent
            reason = f"modem: {exc}"
            return self._give_up(part, reason) or Retry(reason, RETRY_SOON_SECONDS)

    def _give_up(self, part: OutboundPart, reason: str) -> Refused | None:
        """Refused when this attempt uses up the retry policy."""
        if exhausted(self.config.retry, part.attempts + 1):
            return Refused(f"{reason} (gave up after {part.attempts + 1} attempts)")
        return None

    def _record(self, part: OutboundPart, outcome: PartOutcome) -> None:
        """The outcome into the journal (inside the open transaction)."""
        now = self._clock()
        outbox = self.store.outbox
        which = f"part {part.seq}/{part.total}"
        match outcome:
            case Sent(mr=mr):
                outbox.mark_sent(part.part_id, mr, now)
                self.store.history.add(part.message_id, now, "sent", f"{which}: the SMSC took it, mr {mr}")
                self._on_smsc(part, SmscOutcome(accepted=True, mr=mr), now)
            case Refused(reason=reason):
                outbox.mark_failed(part.part_id, now, reason)
                self.store.history.add(part.message_id, now, "failed", f"{which}: {reason}")
                self._on_smsc(part, SmscOutcome(accepted=False, reason=reason), now)
            case Retry(reason=reason, delay=delay, unconfirmed=unconfirmed):
                outbox.mark_retry(part.part_id, now, reason, delay, unconfirmed=unconfirmed)
                self.store.history.add(part.message_id, now, "retry",
                                       f"{which}: {reason}; again in {delay:.0f} s")
            case Unconfirmed(reason=reason):
                outbox.mark_unknown(part.part_id, now, reason)
                self.store.history.add(part.message_id, now, "unknown", f"{which}: {reason}")

    def _tell(self, part: OutboundPart, outcome: PartOutcome) -> None:
        """Count the outcome and log it, once."""
        match outcome:
            case Sent(mr=mr):
                self._metrics.part_sent(self.modem_id)
                level, what = logging.INFO, f"sent mr={mr}"
            case Refused(reason=reason):
                self._metrics.part_failed(self.modem_id)
                level, what = logging.WARNING, f"failed: {reason}"
            case Retry(reason=reason, delay=delay):
                self._metrics.part_retried(self.modem_id)
                level, what = logging.INFO, f"retry in {delay:.1f}s: {reason}"
            case Unconfirmed(reason=reason):
                level, what = logging.WARNING, f"unknown: {reason}"
        log.log(level, "outbound part message=%s to=%s part=%d/%d modem=%s %s", part.message_id,
                number(part.recipient), part.seq, part.total, self.modem_id, what)
