"""Supervision of one modem: open the port, initialise, supervise (pings, health, URCs), recover.

``run()`` never raises because of the modem. Faults are noticed fast (an idle ``AT`` ping every
``ping_interval`` seconds, a short ping after any command timeout) and climb the recovery ladder
(recovery.py: re-init, reopen, reset); a vanished port is reopened as soon as its device node is back; a
restarted modem is re-initialised (after its profile's ``boot_settle``). Only a SIM that needs a person
(PIN, PUK, no SIM) parks it in FAILED. The operations (operations.py) reach the modem through what the
supervisor exposes (its ``Gate``): ``ready``, ``lock``, the current :class:`Session`, and the two calls
that report how a command went.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from modembridge.at import commands as C
from modembridge.at import steps
from modembridge.at.channel import AtChannel
from modembridge.at.connector import Connector
from modembridge.at.errors import AtError, AtTimeout, ModemUnavailable
from modembridge.at.events import (
    IncomingCall,
    MessageDirect,
    MessageStored,
    ModemState,
    ReportDirect,
    ReportStored,
    SweepNeeded,
)
from modembridge.at.facts import ModemFacts
from modembridge.at.parser import AtParser, Urc, UrcKind
from modembridge.at.quirks import CNMI_DIRECT, GENERIC, QuirkProfile, get_profile
from modembridge.at.recovery import RecoveryLadder, Rung, Step
from modembridge.at.session import Session
from modembridge.at.sim_lock import SimNeedsHuman, check_sim_identity
from modembridge.at.status import ModemStatus
from modembridge.config import ModemConfig
from modembridge.observe import ModemMetrics

log = logging.getLogger("modembridge.at.modem")

LISTABLE_MEMS = ("SM", "ME", "SR")  # MT is SM+ME again; BM holds cell broadcasts
PORT_POLL = 0.25  # seconds between looks for a missing device node (a stat: cheap)
OPEN_RETRY_MAX = 4.0  # longest wait between tries on a present but busy (or not yet permitted) port
PING_TIMEOUT = 2.0  # a modem that does not answer a bare AT within this is hung
STUCK_OPS = 3  # this many operations in a row timing out while AT answers: the modem is wedged
RESET_WRITE_DRAIN = 0.1  # let the reset command leave the serial buffer before the port closes
RESET_SETTLE = 1.0  # after a reset command: let the module drop off the bus before reopening
NO_SIM_RETRY = 600.0  # a missing SIM is looked for again this often
MEMORY_FULL_URCS = ("^SMMEMFULL", "+CIEV")
# A +CMT / +CDS the bridge has not acknowledged within this many seconds (its journal stalls, or it stopped
# reading events) is refused with AT+CNMA=2 before the ME's own timeout (27.005 3.4.4: the "network
# timeout", TR2M 12-20 s in 24.011) turns routing off, and new messages are routed to storage (+CMTI) until
# the bridge acknowledges again: they fill the SIM as with indication "stored" instead of waiting unseen.
ACK_GRACE = 5.0


class _Reinit(Exception):
    """The modem restarted by itself: initialise again (not a fault: the ladder does not climb)."""


class _Fault(Exception):
    """The modem stopped answering or keeps failing on this port."""

    def __init__(self, reason: str, *, at_least: Rung | None = None) -> None:
        super().__init__(reason)
        self.at_least = at_least  # skip the rungs below this one


class _Escalate(Exception):
    """The port must be closed: reopened, or the modem reset first."""

    def __init__(self, step: Step, reason: str) -> None:
        super().__init__(reason)
        self.step = step


class Supervisor:
    """Owns the port: opens it, initialises and watches the modem, climbs the recovery ladder."""

    def __init__(self, config: ModemConfig, status: ModemStatus, *, facts: ModemFacts, metrics: ModemMetrics,
                 reconnect_delay: tuple[float, float], sync_timeout: float, connector: Connector) -> None:
        self.config = config
        self.status = status
        self.ladder = RecoveryLadder(*reconnect_delay)  # the rungs climbed (and the delays before them)
        self.profile: QuirkProfile = GENERIC if config.profile == "auto" else get_profile(config.profile)
        self.facts = facts
        self.metrics = metrics  # counts the rungs taken
        self.connector = connector
        self.lock = asyncio.Lock()  # one exchange at a time: operations, health polls, initialisation
        self.ready = asyncio.Event()  # set while READY
        self.stop_requested = asyncio.Event()
        self.session: Session | None = None  # the open port, while there is one
        self.memories: list[str] = [config.storage]  # what list_stored() goes over (set by the init)
        self.stopping = False
        self.ussd_waiter: asyncio.Future[str] | None = None  # an AT+CUSD waiting for its +CUSD answer
        self.op_timeouts = 0  # operations in a row that timed out
        self._ping_timeout = min(PING_TIMEOUT, config.command_timeout)
        self._sync_timeout = sync_timeout
        self._parser = AtParser()
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self._done.set()
        self._restart_seen: str | None = None
        self._reset_requested: str | None = None  # an operator asked for a reset: the reason
        self._check_needed: str | None = None
        self._settle_until = 0.0  # loop time before which a modem that just booted is left alone
        self._cnmi_ranges: list[set[int]] = []  # what AT+CNMI=? allowed (for the fallback while behind)
        self._direct = False  # +CMT / +CDS routed to us (+CSMS=1 and a direct CNMI setting in use)
        self._unacked_since: float | None = None  # loop time of a +CMT / +CDS still waiting for AT+CNMA
        self._direct_seq = 0  # +CMT / +CDS seen so far (their events carry it)
        self._ack_due: int | None = None  # the one the ME waits an AT+CNMA for (None: none we know of)
        self._direct_cnmi: tuple[int, ...] | None = None  # while routed to storage: the one to restore

    # ================================================================ lifecycle
    async def run(self) -> None:
        """Supervise the modem until cancelled or stop(); never raises because of the modem."""
        self.stopping = False
        self.stop_requested.clear()
        self._done.clear()
        try:
            while not self.stopping:
                try:
                    chan = await self._open()
                except Exception as e:  # a bug (or an unforeseen library error) must not end supervision
                    log.exception("%s: unexpected error opening %s", self.config.id, self.config.port)
                    self.status.error(f"internal error: {e!r}")
                    await self._sleep(OPEN_RETRY_MAX)
                    continue
                if chan is None:
                    break
                session = self.session = Session(chan, port=self.config.port, name=self.config.id,
                                                 command_timeout=self.config.command_timeout,
                                                 on_echo=self._echo_seen)
                try:
                    await self._serve(session)
                except SimNeedsHuman as e:
                    self.status.error(str(e))
                    self.status.set_state(ModemState.FAILED, str(e))
                    await self._close(chan)
                    await self._sleep(NO_SIM_RETRY if e.retry else None)
                except _Escalate as e:
                    await self._escalate(chan, e)
                except ModemUnavailable as e:  # the port vanished: reopen it as soon as it is back
                    self.status.error(str(e))
                    if not self.stopping:
                        self.status.set_state(ModemState.RECOVERING, f"{e}: reopening")
                except Exception as e:  # a bug must not end supervision: log it and start over, gently
                    log.exception("%s: unexpected error", self.config.id)
                    self.status.error(f"internal error: {e!r}")
                    step = self.ladder.failed()
                    if not self.stopping:
                        self.status.set_state(ModemState.RECOVERING, f"internal error: {e!r}")
                        await self._close(chan)
                        await self._sleep(max(step.delay, self.ladder.min_delay))
                finally:
                    self.ready.clear()
                    await self._close(chan)
        finally:
            self.ready.clear()
            self.session = None
            self.status.set_state(ModemState.STOPPED, "stopped")
            self._done.set()

    async def stop(self) -> None:
        """Let the exchange in progress finish, then close the port and end run()."""
        self.stopping = True
        self.stop_requested.set()
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), self.config.send_timeout + 5)

    async def _open(self) -> AtChannel | None:
        """Open the port; while its device node is missing, look for it every PORT_POLL seconds, so a
        replugged modem is back within a second of reappearing. None when stopping."""
        port = self.config.port
        delay = min(self.ladder.min_delay, OPEN_RETRY_MAX) or PORT_POLL
        while not self.stopping:
            self.status.set_state(ModemState.CONNECTING, f"opening {port}")
            try:
                return await AtChannel.open(port, self.config.baud, self._parser, self._on_urc,
                                            name=self.config.id, connector=self.connector)
            except ModemUnavailable as e:
                self.status.error(str(e))
                if not self.connector.exists(port):
                    log.warning("%s: %s; waiting for it to appear", self.config.id, e)
                    self.status.set_state(ModemState.CONNECTING, f"waiting for {port} to appear")
                    while not self.stopping and not self.connector.exists(port):
                        await self._sleep(PORT_POLL)
                    continue
                log.warning("%s: %s; retrying in %.3gs", self.config.id, e, delay)
                await self._sleep(delay)
                delay = min(delay * 2, OPEN_RETRY_MAX)
        return None

    async def _close(self, chan: AtChannel) -> None:
        self.session = None
        # stopping: let the exchange in progress (possibly an AT+CMGS) finish first
        await chan.close(grace=self.config.send_timeout if self.stopping else 0.0)

    async def _sleep(self, delay: float | None) -> None:
        """Sleep, unless stop() is called; None = until stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_requested.wait(), delay)

    # ================================================================ recovery
    async def _escalate(self, chan: AtChannel, e: _Escalate) -> None:
        """Take a reopen or reset rung: (reset the modem,) close the port, wait, and let run() reopen it."""
        step = e.step
        self.metrics.recovery(step.rung.value)
        self.status.set_state(ModemState.RECOVERING, f"{e}; {step.rung.value} (failure {step.failures})")
        if step.rung is Rung.RESET and chan.is_open:
            # written raw: after timeouts the channel would first resynchronise with an AT that a silent
            # modem never answers, and the reset would never be written
            log.warning("%s: resetting the modem (%s)", self.config.id, self.profile.reset)
            with contextlib.suppress(AtError):
                chan.write_raw(b"\x1b" + self.profile.reset.encode("ascii") + b"\r")
                self._booting()
                await asyncio.sleep(RESET_WRITE_DRAIN)
        await self._close(chan)
        await self._sleep(step.delay + (RESET_SETTLE if step.rung is Rung.RESET else 0.0))

    def _climb(self, fault: str, at_least: Rung | None = None) -> str:
        """One more failure: the reason for a re-init on this port, or _Escalate for the rungs beyond."""
        self.status.error(fault)
        step = self.ladder.failed() if at_least is None else self.ladder.escalate_to(at_least)
        if step.rung is not Rung.REINIT:
            raise _Escalate(step, fault)
        self.metrics.recovery(Rung.REINIT.value)
        self.status.set_state(ModemState.RECOVERING, f"{fault}; reinit (failure {step.failures})")
        return f"recovering: {fault}"

    # ================================================================ one open port
    async def _serve(self, s: Session) -> None:
        """Initialise and supervise on one open port; re-initialise on a restart or as the ladder's first
        rung. Returns when stopping; raises _Escalate when the port must be reopened (or the modem reset)."""
        reason = "port opened"
        while not self.stopping:
            self.status.set_state(ModemState.INITIALIZING, reason)
            try:
                async with self.lock:
                    await self._initialise(s)
            except ModemUnavailable:
                raise
            except AtError as e:
                reason = self._climb(f"initialisation failed: {e}")
                continue
            self.ladder.recovered()
            self.op_timeouts = 0
            self.status.set_state(ModemState.READY, self._ready_summary(s))
            self.ready.set()
            self.status.emit(SweepNeeded("modem ready"))
            try:
                await self._supervise(s)
                return
            except _Reinit as e:
                reason = str(e)
                log.warning("%s: %s: re-initialising", self.config.id, reason)
            except _Fault as e:
                reason = self._climb(str(e), e.at_least)
            finally:
                self.ready.clear()

    async def _supervise(self, s: Session) -> None:
        loop = asyncio.get_running_loop()
        chan = s.chan
        next_health = loop.time() + self.config.health_interval
        next_sweep = loop.time() + self.config.sweep_interval
        while not self.stopping:
            next_ping = chan.last_final + self.config.ping_interval
            next_nack = self._unacked_since + ACK_GRACE if self._unacked_since is not None else next_ping
            timeout = max(0.0, min(next_health, next_sweep, next_ping, next_nack) - loop.time())
            if not self._wake.is_set():
                waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(chan.lost.wait())]
                try:
                    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
            self._wake.clear()
            if self.stop_requested.is_set():
                return
            if chan.lost.is_set():
                raise ModemUnavailable(f"{self.config.id}: {chan.lost_reason}")
            if self._restart_seen:
                raise _Reinit(self._restart_seen)
            if self._reset_requested:
                why, self._reset_requested = self._reset_requested, None
                raise _Fault(why, at_least=Rung.RESET)
            try:
                await self._checks(s, next_health)
            except ModemUnavailable:
                raise
            except AtError as e:
                raise _Fault(f"health poll failed: {e}") from e
            now = loop.time()
            if now >= next_health:
                next_health = now + self.config.health_interval
            if now >= next_sweep:
                self.status.emit(SweepNeeded("periodic sweep"))
                next_sweep = now + self.config.sweep_interval

    async def _checks(self, s: Session, next_health: float) -> None:
        """A ping when asked (an operation timed out) or when the line was quiet; the health poll when due."""
        now = asyncio.get_running_loop().time()
        if self._check_needed or now >= s.chan.last_final + self.config.ping_interval:
            why, self._check_needed = self._check_needed, None
            async with self.lock:
                if not s.is_open:
                    return
                try:
                    await s.chan.command("AT", self._ping_timeout)
                except AtTimeout as e:
                    raise _Fault(f"the modem does not answer{f' (after: {why})' if why else ''}: {e}") from e
            if why and self.op_timeouts >= STUCK_OPS:
                # firmware that answers AT but nothing else is not helped by a re-init or a reopen
                raise _Fault(f"{self.op_timeouts} commands in a row timed out although the modem answers AT "
                             f"(last: {why})", at_least=Rung.RESET)
        if self._unacked_since is not None and now >= self._unacked_since + ACK_GRACE:
            async with self.lock:
                if not s.is_open:
                    return
                try:
                    await self._refuse_unacked(s)
                except AtTimeout as e:
                    self.command_timed_out(f"refusing an unacknowledged +CMT: {e}")
        if now >= next_health:
            async with self.lock:
                if not s.is_open:
                    return
                try:
                    await self._health(s)
                except AtTimeout as e:
                    # as for an operation: a ping decides. No answer: the ladder; AT answers: one more command
                    # in a row that timed out (a wedged modem is reset, not re-initialised in vain)
                    self.command_timed_out(f"health poll: {e}")
                else:
                    self.op_timeouts = 0

    # ================================================================ what operations report
    def command_timed_out(self, reason: str) -> None:
        """An operation's (or the health poll's) command timed out: check the modem at once (the first rung
        of recovery: a ping)."""
        self.op_timeouts += 1
        if self._check_needed is None:
            self._check_needed = reason
            self._wake.set()

    def command_answered(self) -> None:
        self.op_timeouts = 0

    # ================================================================ direct routing and its acknowledgements
    async def _refuse_unacked(self, s: Session) -> None:
        """A +CMT / +CDS waited ACK_GRACE for the bridge's AT+CNMA: refuse it (RP-ERROR: the network keeps it
        and delivers it again; some MEs store it instead) and route new messages to storage until the bridge
        acknowledges again. Nothing is lost either way: what the bridge journals late it acknowledges late
        (an error then, only logged), and a copy delivered again is recognised by the journal."""
        waited = asyncio.get_running_loop().time() - (self._unacked_since or 0.0)
        self._unacked_since = self._ack_due = None
        cid = self.config.id
        # storage first: the network may deliver its next message right behind the refusal
        stored = None
        if self._direct_cnmi is None and self.status.cnmi is not None:
            stored = await steps.indications(s, self._cnmi_ranges, self.profile.cnmi)
            if stored is not None:
                self._direct_cnmi, self.status.cnmi = self.status.cnmi, stored
        await s.best_effort("AT+CNMA=2")
        if stored is not None:
            log.warning("%s: a +CMT/+CDS waited %.1fs for its acknowledgement: refused (the network keeps "
                        "it); new messages are stored (CNMI %s) until the bridge catches up", cid, waited,
                        ",".join(map(str, stored)))
        else:
            log.warning("%s: a +CMT/+CDS waited %.1fs for its acknowledgement: refused (the network "
                        "keeps it)", cid, waited)
        # the ME may have given up first and stored it without a URC (routing off): look
        self.status.emit(SweepNeeded("a +CMT/+CDS was not acknowledged in time"))

    def acknowledging(self, seq: int | None) -> bool:
        """Operations.ack is about to acknowledge +CMT/+CDS ``seq``: whether AT+CNMA may be sent for it (the
        ME still waits for that one, or the caller does not say which); then nothing waits any more."""
        if seq is not None and seq != self._ack_due:
            return False
        self._unacked_since = self._ack_due = None
        return True

    async def acknowledged(self, s: Session) -> None:
        """The bridge acknowledged a +CMT / +CDS (called by Operations.ack, holding the lock, after the
        AT+CNMA): direct routing again if it had been switched to storage while the bridge was behind."""
        direct = self._direct_cnmi
        if direct is not None and await s.best_effort(C.cnmi(direct)) is not None:
            self._direct_cnmi, self.status.cnmi = None, direct
            log.info("%s: the bridge acknowledges again: direct routing restored (CNMI %s)", self.config.id,
                     ",".join(map(str, direct)))

    # ================================================================ initialisation
    async def _initialise(self, s: Session) -> None:
        cid = self.config.id
        await self._settle()
        await steps.attention(s, tries=max(3, int(self.config.command_timeout / self._sync_timeout)),
                              timeout=self._sync_timeout)
        self._restart_seen = None  # a banner before our first OK was the boot we are initialising after
        s.forget()
        await steps.echo_off(s)
        await steps.verbose_errors(s)
        info, self.profile = await steps.identify(s, self.config.profile)
        self.status.info = replace(info, imsi=self.status.info.imsi, iccid=self.status.info.iccid,
                                   own_number=self.status.info.own_number)

        async def pause(seconds: float) -> None:
            await self._sleep(seconds)
            if self.stopping:
                raise ModemUnavailable(f"{cid}: stopping")

        await steps.unlock(s, modem_id=cid, pin=self.config.pin, profile=self.profile, facts=self.facts,
                           sleep=pause)
        await self._identify_sim(s)
        await steps.pdu_mode(s)
        await steps.vendor_extras(s, self.profile)
        await steps.caller_id(s)
        await self._init_storage(s)
        await self._init_indications(s)
        if self.config.smsc and not await steps.set_smsc(s, self.config.smsc):
            log.warning("%s: the modem refused the configured SMSC %s", cid, self.config.smsc)
        await self._health(s)
        # a modem that keeps echoing after ATE0 cannot signal a restart by echoing: don't read it as one
        s.echo_hint = s.parser.echo_seen == 0
        if not s.echo_hint:
            log.info("%s: the modem echoes despite ATE0 (echo is stripped)", cid)
        s.parser.echo_seen = 0

    async def _settle(self) -> None:
        """A modem that just booted (a restart banner, a reset) may ignore what it hears at first (SIMCom):
        leave it alone for its profile's boot_settle."""
        wait = self._settle_until - asyncio.get_running_loop().time()
        if wait > 0:
            log.debug("%s: letting the modem settle for %.2gs after its boot", self.config.id, wait)
            await self._sleep(wait)

    def _booting(self) -> None:
        self._settle_until = asyncio.get_running_loop().time() + self.profile.boot_settle

    async def _identify_sim(self, s: Session) -> None:
        imsi, iccid = await steps.sim_identity(s, self.profile)
        own = self.config.own_number or await steps.own_number(s)
        self.status.info = replace(self.status.info, imsi=imsi, iccid=iccid, own_number=own)
        swap = await check_sim_identity(self.facts, imsi, iccid)
        if swap is not None:
            self.status.sim_swap = swap
            log.warning("%s: %s (messages on the new SIM are received as usual; check the SMSC and the "
                        "number your users text)", self.config.id, swap.describe())

    async def _init_storage(self, s: Session) -> None:
        want = self.config.storage.upper()
        groups = await steps.storage_choices(s)
        if groups is not None:
            self.memories = [m for m in LISTABLE_MEMS if groups and m in groups[0]] or [want]
            if groups and want not in groups[0]:
                log.warning("%s: storage %s not offered (%s)", self.config.id, want, groups[0])
        if not await steps.select_storage(s, want):
            log.warning("%s: could not select storage %s; using the modem's default", self.config.id, want)
        await self._refresh_storage(s)

    async def _refresh_storage(self, s: Session) -> None:
        mems = await steps.storage_fill(s)
        if not mems:
            return
        for mem, used, total in mems:
            self.status.storage[mem] = (used, total)
        s.mem1 = mems[0][0]
        # the memory new messages go to is the third one (<mem3>); a full one makes the network hold them
        mem3, used, total = mems[-1]
        self.status.set_sim_full(total > 0 and used >= total, f"storage {mem3} {used}/{total}")

    async def _init_indications(self, s: Session) -> None:
        _raw, ranges = await steps.cnmi_ranges(s)
        self._cnmi_ranges = ranges
        self.status.cnmi = None
        self._direct, self._unacked_since, self._direct_cnmi, self._ack_due = False, None, None, None
        preferences = self.profile.cnmi
        # indication "direct": +CMT / +CDS straight to us, each acknowledged with +CNMA after it is
        # journalled; that needs phase 2+ message service (+CSMS=1). Refused: the stored settings.
        if self.config.indication == "direct" and await s.best_effort("AT+CSMS=1") is not None:
            preferences = CNMI_DIRECT + preferences
        self.status.cnmi = await steps.indications(s, ranges, preferences)
        self._direct = self.status.cnmi in CNMI_DIRECT
        if self.status.cnmi is None:
            log.warning("%s: CNMI refused: no new-message indications, relying on sweeps", self.config.id)

    # ================================================================ health
    async def _health(self, s: Session) -> None:
        """Signal, registration, operator, storage fill; CNMI re-applied if the modem forgot it."""
        st = self.status
        ready = st.state == ModemState.READY
        net = await steps.read_network(s, steps.Network(st.signal_dbm, st.registration, st.operator),
                                       set_operator_format=st.operator is None or not ready)
        st.signal_dbm, st.operator = net.signal_dbm, net.operator
        if net.registration is not None:
            st.set_registration(net.registration)
        if st.cnmi is not None and ready:
            lines = await s.best_effort("AT+CNMI?")
            if lines:
                with contextlib.suppress(C.ParseError):
                    current = C.parse_cnmi_read(lines)
                    if current[: len(st.cnmi)] != st.cnmi:
                        log.warning("%s: the modem forgot CNMI (%s): restoring it", self.config.id, current)
                        await s.best_effort(C.cnmi(st.cnmi))
                        st.emit(SweepNeeded("CNMI was lost"))
        await self._refresh_storage(s)

    def _ready_summary(self, s: Session) -> str:
        st, i = self.status, self.status.info
        cnmi = ",".join(map(str, st.cnmi)) if st.cnmi else "none"
        return (f"{i.manufacturer or '?'} {i.model or '?'} profile={self.profile.name} cnmi={cnmi} "
                f"storage={s.mem1} signal={st.signal_dbm} dBm {st.registration}")

    # ================================================================ URCs
    def _echo_seen(self) -> None:
        if self.status.state == ModemState.READY and not self._restart_seen:
            self._flag_restart("echo is on again (modem reset?)")

    def _on_urc(self, urc: Urc) -> None:
        name = urc.name
        if urc.kind == UrcKind.RESTART:
            self._booting()
            self._flag_restart(f"modem restarted ({urc.text})")
        elif name in ("+CMTI", "+CDSI"):
            f = C.split_fields(urc.value)
            try:
                mem, index = f[0].upper(), int(f[1])
            except (IndexError, ValueError):
                log.warning("%s: malformed %r: sweeping", self.config.id, urc.text)
                self.status.emit(SweepNeeded(f"malformed {name}"))
                return
            announced = self.session.announced if self.session is not None else set()
            if (mem, index) in announced:
                log.debug("%s: duplicate %r ignored", self.config.id, urc.text)
                return
            announced.add((mem, index))
            self.status.emit(MessageStored(mem, index) if name == "+CMTI" else ReportStored(mem, index))
        elif name in ("+CMT", "+CDS"):
            # the ME waits for our AT+CNMA (not for ever), and delivers nothing else until it has it
            self._direct_seq += 1
            self._ack_due = self._direct_seq
            if self._direct:
                self._unacked_since = asyncio.get_running_loop().time()
                self._wake.set()
            if urc.pdu is None:
                self.status.emit(SweepNeeded(f"{name} without its PDU"))
                return
            f = C.split_fields(urc.value)
            try:
                length = int(f[-1])
            except ValueError:
                length = len(urc.pdu) // 2
            seq = self._direct_seq
            self.status.emit(MessageDirect(urc.pdu, length, seq) if name == "+CMT"
                             else ReportDirect(urc.pdu, length, seq))
        elif name in ("RING", "+CRING"):
            self.status.emit(IncomingCall(None))
        elif name == "+CLIP":
            fields = C.split_fields(urc.value)
            self.status.emit(IncomingCall(fields[0] or None if fields else None))
        elif name == "+CUSD":
            waiter = self.ussd_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(urc.text)
            else:
                log.info("%s: USSD answer nobody waits for: %r", self.config.id, urc.text[:200])
        elif name == "+CREG":
            with contextlib.suppress(C.ParseError, IndexError):
                self.status.set_registration(C.parse_creg([urc.text], unsolicited=True).name)
        elif name == "^RSSI":
            with contextlib.suppress(ValueError):
                self.status.signal_dbm = C.csq_to_dbm(int(urc.value))
        elif name in MEMORY_FULL_URCS and _says_memory_full(urc):
            self.status.set_sim_full(True, urc.text)
        else:
            log.debug("%s: unsolicited %r", self.config.id, urc.text)

    def request_reinit(self, reason: str) -> None:
        """Initialise the modem again (between exchanges), as after a restart of its own."""
        self._flag_restart(reason)

    def request_reset(self, reason: str) -> None:
        """Reset the modem (the profile's reset command), reopen and initialise it: the ladder's last rung."""
        self._reset_requested = reason
        self._wake.set()

    def _flag_restart(self, reason: str) -> None:
        if self._restart_seen is None:
            self._restart_seen = reason
            self._wake.set()


def _says_memory_full(urc: Urc) -> bool:
    """``^SMMEMFULL: "SM"`` (Huawei), ``+CIEV: "SMSFULL",1`` (SIMCom); not other +CIEV indicators."""
    if urc.name == "^SMMEMFULL":
        return True
    f = C.split_fields(urc.value)
    return len(f) >= 2 and f[0].upper() in ("SMSFULL", "MESSAGE FULL") and f[1] == "1"
