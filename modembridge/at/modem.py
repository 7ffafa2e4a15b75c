"""The modem driver: supervision (open, identify, PIN, init, health, recovery); operations in operations.py.

``run()`` never raises because of the modem. Faults are noticed fast (an idle ``AT`` ping every
``ping_interval`` seconds, a short ping after any command timeout) and climb the recovery ladder
(recovery.py: re-init, reopen, reset); a vanished port is reopened as soon as its device node is back; a
restarted modem is re-initialised. Only a SIM that needs a person (PIN, PUK, no SIM) parks it in FAILED.
Operations wait for READY up to their timeout instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import replace

from modembridge.at import commands as C
from modembridge.at.channel import AtChannel
from modembridge.at.errors import AtError, AtTimeout, CmeError, CmsError, ModemUnavailable
from modembridge.at.events import (
    MessageDirect,
    MessageStored,
    ModemEvent,
    ModemInfo,
    ModemState,
    ReportDirect,
    ReportStored,
    StateChanged,
    SweepNeeded,
)
from modembridge.at.memory import ModemMemory, VolatileMemory
from modembridge.at.operations import ModemOperations
from modembridge.at.parser import AtParser, Urc, UrcKind
from modembridge.at.quirks import CNMI_DIRECT, GENERIC, QuirkProfile, detect_profile, get_profile
from modembridge.at.recovery import RecoveryLadder, Rung, Step
from modembridge.at.sim_lock import SimNeedsHuman, SimSwap, check_sim_identity, unlock_sim
from modembridge.config import ModemConfig
from modembridge.model.status import ModemSnapshot, RecoveryStats, StorageFill
from modembridge.observe import Metrics, ModemMetrics

log = logging.getLogger(__name__)

LISTABLE_MEMS = ("SM", "ME", "SR")  # MT is SM+ME again; BM holds cell broadcasts
PORT_POLL = 0.25  # seconds between looks for a missing device node (a stat: cheap)
OPEN_RETRY_MAX = 4.0  # longest wait between tries on a present but busy (or not yet permitted) port
PING_TIMEOUT = 2.0  # a modem that does not answer a bare AT within this is hung
STUCK_OPS = 3  # this many operations in a row timing out while AT answers: the modem is wedged
RESET_WRITE_DRAIN = 0.1  # let the reset command leave the serial buffer before the port closes
RESET_SETTLE = 1.0  # after a reset command: let the module drop off the bus before reopening
MEMORY_FULL_URCS = ("^SMMEMFULL", "+CIEV")

__all__ = ["Modem", "SimNeedsHuman"]


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


class Modem(ModemOperations):
    """One serial GSM modem. Start ``run()`` as a task; use the operations from other tasks."""

    def __init__(self, config: ModemConfig, *, events: asyncio.Queue[ModemEvent] | None = None,
                 memory: ModemMemory | None = None, metrics: ModemMetrics | None = None,
                 reconnect_delay: tuple[float, float] = (0.5, 60.0), sync_timeout: float = 2.0) -> None:
        self.config = config
        self.events: asyncio.Queue[ModemEvent] = events if events is not None else asyncio.Queue()
        self.memory: ModemMemory = memory if memory is not None else VolatileMemory()
        self.state = ModemState.STOPPED
        self.state_reason = "not started"
        self.info = ModemInfo()
        self.signal_dbm: int | None = None
        self.registration = "unknown"
        self.operator: str | None = None
        self.storage: dict[str, tuple[int, int]] = {}
        self.sim_full = False
        self.sim_swap: SimSwap | None = None
        self.last_error: str | None = None
        self.cnmi: tuple[int, ...] | None = None
        self._metrics = metrics if metrics is not None else Metrics().modem(config.id)
        self.ladder = RecoveryLadder(*reconnect_delay)
        self._ping_timeout = min(PING_TIMEOUT, config.command_timeout)
        self._sync_timeout = sync_timeout
        self._profile: QuirkProfile = GENERIC if config.profile == "auto" else get_profile(config.profile)
        self._parser = AtParser()
        self._chan: AtChannel | None = None
        self._ready = asyncio.Event()
        self._op_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop_evt = asyncio.Event()
        self._done = asyncio.Event()
        self._done.set()
        self._stopping = False
        self._restart_seen: str | None = None
        self._echo_hint = True  # echo seen after ATE0 means the modem restarted (unless it always echoes)
        self._check_needed: str | None = None
        self._op_timeouts = 0
        self._mem1: str | None = None
        self._mems: list[str] = [config.storage]
        self._announced: set[tuple[str, int]] = set()

    # ================================================================ supervision
    async def run(self) -> None:
        """Supervise the modem until cancelled or stop(); never raises because of the modem."""
        self._stopping = False
        self._stop_evt.clear()
        self._done.clear()
        try:
            while not self._stopping:
                try:
                    chan = await self._open()
                except Exception as e:  # a bug (or an unforeseen library error) must not end supervision
                    log.exception("%s: unexpected error opening %s", self.config.id, self.config.port)
                    self._error(f"internal error: {e!r}")
                    await self._sleep(OPEN_RETRY_MAX)
                    continue
                if chan is None:
                    break
                self._chan = chan
                try:
                    await self._session(chan)
                except SimNeedsHuman as e:
                    self._error(str(e))
                    self._set_state(ModemState.FAILED, str(e))
                    await self._close(chan)
                    await self._sleep(600.0 if e.retry else None)
                except _Escalate as e:
                    await self._escalate(chan, e)
                except ModemUnavailable as e:  # the port vanished: reopen it as soon as it is back
                    self._error(str(e))
                    if not self._stopping:
                        self._set_state(ModemState.RECOVERING, f"{e}: reopening")
                except Exception as e:  # a bug must not end supervision: log it and start over, gently
                    log.exception("%s: unexpected error", self.config.id)
                    self._error(f"internal error: {e!r}")
                    step = self.ladder.failed()
                    if not self._stopping:
                        self._set_state(ModemState.RECOVERING, f"internal error: {e!r}")
                        await self._close(chan)
                        await self._sleep(max(step.delay, self.ladder.min_delay))
                finally:
                    self._ready.clear()
                    await self._close(chan)
        finally:
            self._ready.clear()
            self._chan = None
            self._set_state(ModemState.STOPPED, "stopped")
            self._done.set()

    async def stop(self) -> None:
        """Let the exchange in progress finish, then close the port and end run()."""
        self._stopping = True
        self._stop_evt.set()
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), self.config.send_timeout + 5)

    async def _open(self) -> AtChannel | None:
        """Open the port; while its device node is missing, look for it every PORT_POLL seconds, so a
        replugged modem is back within a second of reappearing. None when stopping."""
        port = self.config.port
        delay = min(self.ladder.min_delay, OPEN_RETRY_MAX) or PORT_POLL
        while not self._stopping:
            self._set_state(ModemState.CONNECTING, f"opening {port}")
            try:
                return await AtChannel.open(port, self.config.baud, self._parser, self._on_urc,
                                            name=self.config.id)
            except ModemUnavailable as e:
                self._error(str(e))
                if not os.path.exists(port):
                    log.warning("%s: %s; waiting for it to appear", self.config.id, e)
                    self._set_state(ModemState.CONNECTING, f"waiting for {port} to appear")
                    while not self._stopping and not os.path.exists(port):
                        await self._sleep(PORT_POLL)
                    continue
                log.warning("%s: %s; retrying in %.3gs", self.config.id, e, delay)
                await self._sleep(delay)
                delay = min(delay * 2, OPEN_RETRY_MAX)
        return None

    async def _close(self, chan: AtChannel) -> None:
        self._chan = None
        # stopping: let the exchange in progress (possibly an AT+CMGS) finish first
        await chan.close(grace=self.config.send_timeout if self._stopping else 0.0)

    async def _sleep(self, delay: float | None) -> None:
        """Sleep, unless stop() is called; None = until stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_evt.wait(), delay)

    async def _escalate(self, chan: AtChannel, e: _Escalate) -> None:
        """Take a reopen or reset rung: (reset the modem,) close the port, wait, and let run() reopen it."""
        step = e.step
        self._metrics.recovery(step.rung.value)
        self._set_state(ModemState.RECOVERING, f"{e}; {step.rung.value} (failure {step.failures})")
        if step.rung is Rung.RESET and chan.is_open:
            # written raw: after timeouts the channel would first resynchronise with an AT that a silent
            # modem never answers, and the reset would never be written
            log.warning("%s: resetting the modem (%s)", self.config.id, self._profile.reset)
            with contextlib.suppress(AtError):
                chan.write_raw(b"\x1b" + self._profile.reset.encode("ascii") + b"\r")
                await asyncio.sleep(RESET_WRITE_DRAIN)
        await self._close(chan)
        await self._sleep(step.delay + (RESET_SETTLE if step.rung is Rung.RESET else 0.0))

    async def _session(self, chan: AtChannel) -> None:
        """Initialise and supervise on one open port; re-initialise on a restart or as the ladder's first
        rung. Returns when stopping; raises _Escalate when the port must be reopened (or the modem reset)."""
        reason = "port opened"
        while not self._stopping:
            self._set_state(ModemState.INITIALIZING, reason)
            try:
                async with self._op_lock:
                    await self._initialise(chan)
            except (SimNeedsHuman, ModemUnavailable):
                raise
            except AtError as e:
                reason = self._climb(f"initialisation failed: {e}")
                continue
            self.ladder.recovered()
            self._op_timeouts = 0
            self._set_state(ModemState.READY, self._ready_summary())
            self._ready.set()
            self._emit(SweepNeeded("modem ready"))
            try:
                await self._supervise(chan)
                return
            except _Reinit as e:
                reason = str(e)
                log.warning("%s: %s: re-initialising", self.config.id, reason)
            except _Fault as e:
                reason = self._climb(str(e), e.at_least)
            finally:
                self._ready.clear()

    def _climb(self, fault: str, at_least: Rung | None = None) -> str:
        """One more failure: the reason for a re-init on this port, or _Escalate for the rungs beyond."""
        self._error(fault)
        step = self.ladder.failed() if at_least is None else self.ladder.escalate_to(at_least)
        if step.rung is not Rung.REINIT:
            raise _Escalate(step, fault)
        self._metrics.recovery(Rung.REINIT.value)
        self._set_state(ModemState.RECOVERING, f"{fault}; reinit (failure {step.failures})")
        return f"recovering: {fault}"

    async def _supervise(self, chan: AtChannel) -> None:
        loop = asyncio.get_running_loop()
        next_health = loop.time() + self.config.health_interval
        next_sweep = loop.time() + self.config.sweep_interval
        while not self._stopping:
            next_ping = chan.last_final + self.config.ping_interval
            timeout = max(0.0, min(next_health, next_sweep, next_ping) - loop.time())
            if not self._wake.is_set():
                waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(chan.lost.wait())]
                try:
                    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
            self._wake.clear()
            if self._stop_evt.is_set():
                return
            if chan.lost.is_set():
                raise ModemUnavailable(f"{self.config.id}: {chan.lost_reason}")
            if self._restart_seen:
                raise _Reinit(self._restart_seen)
            try:
                await self._checks(chan, next_health, next_sweep)
            except (ModemUnavailable, _Reinit, _Fault):
                raise
            except AtError as e:
                raise _Fault(f"health poll failed: {e}") from e
            now = loop.time()
            if now >= next_health:
                next_health = now + self.config.health_interval
            if now >= next_sweep:
                self._emit(SweepNeeded("periodic sweep"))
                next_sweep = now + self.config.sweep_interval

    async def _checks(self, chan: AtChannel, next_health: float, next_sweep: float) -> None:
        """A ping when asked (an operation timed out) or when the line was quiet; the health poll when due."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._check_needed or now >= chan.last_final + self.config.ping_interval:
            why, self._check_needed = self._check_needed, None
            async with self._op_lock:
                if not chan.is_open:
                    return
                try:
                    await chan.command("AT", self._ping_timeout)
                except AtTimeout as e:
                    raise _Fault(f"the modem does not answer{f' (after: {why})' if why else ''}: {e}") from e
            if why and self._op_timeouts >= STUCK_OPS:
                # firmware that answers AT but nothing else is not helped by a re-init or a reopen
                raise _Fault(f"{self._op_timeouts} commands in a row timed out although the modem answers AT "
                             f"(last: {why})", at_least=Rung.RESET)
        if now >= next_health:
            async with self._op_lock:
                if chan.is_open:
                    await self._health(chan)

    def _request_check(self, reason: str) -> None:
        if self._check_needed is None:
            self._check_needed = reason
            self._wake.set()

    # ================================================================ init
    async def _cmd(self, chan: AtChannel, command: str, timeout: float | None = None) -> list[str]:
        lines = await chan.command(command, timeout or self.config.command_timeout)
        if self._echo_hint and self._parser.echo_seen and self.state == ModemState.READY \
                and not self._restart_seen:
            self._flag_restart("echo is on again (modem reset?)")
        return lines

    async def _try(self, chan: AtChannel, command: str) -> list[str] | None:
        """Best effort: None on an error result (timeouts and a lost port still raise)."""
        try:
            return await self._cmd(chan, command)
        except (AtTimeout, ModemUnavailable):
            raise
        except AtError as e:
            log.debug("%s: %s failed: %s", self.config.id, command, e)
            return None

    async def _sync(self, chan: AtChannel) -> None:
        """Get the modem's attention: leave a stuck prompt (ESC), then AT until OK."""
        chan.write_raw(b"\x1b")
        tries = max(3, int(self.config.command_timeout / self._sync_timeout))
        last: Exception | None = None
        for _ in range(tries):
            try:
                await chan.command("AT", self._sync_timeout)
                return
            except AtTimeout as e:
                last = e
            except (CmeError, CmsError, ModemUnavailable):
                raise
            except AtError as e:  # ERROR to a bare AT: line noise before it; try again
                last = e
        raise AtTimeout(f"{self.config.id}: no answer to AT on {self.config.port} ({last})")

    async def _initialise(self, chan: AtChannel) -> None:
        cid = self.config.id
        await self._sync(chan)
        self._restart_seen = None  # a banner before our first OK was the boot we are initialising after
        self._mem1 = None
        self._announced.clear()
        await self._cmd(chan, "ATE0")
        self._parser.echo_seen = 0
        await self._try(chan, "AT+CMEE=1")
        await self._identify(chan)

        async def command(text: str, timeout: float | None) -> list[str]:
            return await self._cmd(chan, text, timeout)

        async def pause(seconds: float) -> None:
            await self._sleep(seconds)
            if self._stopping:
                raise ModemUnavailable(f"{cid}: stopping")

        await unlock_sim(command, modem_id=cid, pin=self.config.pin, profile=self._profile,
                         memory=self.memory, sleep=pause, command_timeout=self.config.command_timeout)
        await self._identify_sim(chan)
        try:
            await self._busy_retry(chan, "AT+CMGF=0", self.config.command_timeout)
        except (AtTimeout, ModemUnavailable):
            raise
        except AtError as e:
            raise AtError(f"{cid}: the modem refuses PDU mode (AT+CMGF=0: {e})") from e
        for extra in self._profile.init_extra:
            await self._try(chan, extra)
        await self._init_storage(chan)
        await self._init_cnmi(chan)
        if self.config.smsc and await self._try(chan, C.csca(self.config.smsc)) is None:
            log.warning("%s: the modem refused the configured SMSC %s", cid, self.config.smsc)
        await self._health(chan)
        # a modem that keeps echoing after ATE0 cannot signal a restart by echoing: don't read it as one
        self._echo_hint = self._parser.echo_seen == 0
        if not self._echo_hint:
            log.info("%s: the modem echoes despite ATE0 (echo is stripped)", cid)
        self._parser.echo_seen = 0

    async def _identify(self, chan: AtChannel) -> None:
        async def ident(cmd: str) -> str | None:
            lines = await self._try(chan, cmd)
            try:
                return C.parse_identity(lines) if lines else None
            except C.ParseError:
                return None

        manufacturer, model = await ident("AT+CGMI"), await ident("AT+CGMM")
        revision, imei = await ident("AT+CGMR"), await ident("AT+CGSN")
        if self.config.profile == "auto":
            self._profile = detect_profile(manufacturer or "", model or "")
        self.info = replace(self.info, manufacturer=manufacturer, model=model, revision=revision, imei=imei,
                            profile=self._profile.name)
        self._parser.set_patterns(noise=self._profile.noise, restart=self._profile.restart)

    async def _identify_sim(self, chan: AtChannel) -> None:
        lines = await self._try(chan, "AT+CIMI")
        imsi = iccid = None
        with contextlib.suppress(C.ParseError):
            imsi = C.parse_identity(lines) if lines else None
        for cmd in self._profile.ccid:
            lines = await self._try(chan, cmd)
            if lines:
                try:
                    iccid = C.parse_iccid(lines)
                    break
                except C.ParseError:
                    continue
        self.info = replace(self.info, imsi=imsi, iccid=iccid)
        swap = await check_sim_identity(self.memory, self.info.imsi, self.info.iccid)
        if swap is not None:
            self.sim_swap = swap
            log.warning("%s: %s (messages on the new SIM are received as usual; check the SMSC and the "
                        "number your users text)", self.config.id, swap.describe())

    async def _init_storage(self, chan: AtChannel) -> None:
        want = self.config.storage.upper()
        lines = await self._try(chan, "AT+CPMS=?")
        if lines:
            try:
                groups = C.parse_cpms_test(lines)
                mems = [m for m in LISTABLE_MEMS if groups and m in groups[0]]
                self._mems = mems or [want]
                if groups and want not in groups[0]:
                    log.warning("%s: storage %s not offered (%s)", self.config.id, want, groups[0])
            except C.ParseError:
                self._mems = [want]
        for attempt in (C.cpms(want, want, want), C.cpms(want, want), C.cpms(want)):
            try:
                await self._busy_retry(chan, attempt, self.config.command_timeout)
                self._mem1 = want
                break
            except (AtTimeout, ModemUnavailable):
                raise
            except AtError as e:
                log.debug("%s: %s refused: %s", self.config.id, attempt, e)
        else:
            log.warning("%s: could not select storage %s; using the modem's default", self.config.id, want)
        await self._refresh_storage(chan)

    async def _refresh_storage(self, chan: AtChannel) -> None:
        lines = await self._try(chan, "AT+CPMS?")
        if not lines:
            return
        try:
            mems = C.parse_cpms_read(lines)
        except C.ParseError:
            return
        for mem, used, total in mems:
            self.storage[mem] = (used, total)
        self._mem1 = mems[0][0]
        # the memory new messages go to is the third one (<mem3>); a full one makes the network hold them
        _mem, used, total = mems[-1]
        self._set_sim_full(total > 0 and used >= total, f"storage {mems[-1][0]} {used}/{total}")

    async def _init_cnmi(self, chan: AtChannel) -> None:
        ranges: list[set[int]] = []
        lines = await self._try(chan, "AT+CNMI=?")
        if lines:
            with contextlib.suppress(C.ParseError):
                ranges = C.parse_cnmi_test(lines)
        self.cnmi = None
        preferences = self._profile.cnmi
        # indication "direct": +CMT / +CDS straight to us, each acknowledged with +CNMA after it is
        # journalled; that needs phase 2+ message service (+CSMS=1). Refused: the stored settings.
        if self.config.indication == "direct" and await self._try(chan, "AT+CSMS=1") is not None:
            preferences = CNMI_DIRECT + preferences
        for setting in C.cnmi_candidates(ranges, preferences):
            if await self._try(chan, C.cnmi(setting)) is not None:
                self.cnmi = setting
                return
        log.warning("%s: CNMI refused: no new-message indications, relying on sweeps", self.config.id)

    # ================================================================ health
    async def _health(self, chan: AtChannel) -> None:
        """Signal, registration, operator, storage fill; CNMI re-applied if the modem forgot it."""
        lines = await self._try(chan, "AT+CSQ")
        if lines:
            with contextlib.suppress(C.ParseError):
                rssi, _ber = C.parse_csq(lines)
                self.signal_dbm = C.csq_to_dbm(rssi)
        lines = await self._try(chan, "AT+CREG?")
        if lines:
            with contextlib.suppress(C.ParseError):
                self._set_registration(C.parse_creg(lines).name)
        if self.operator is None or self.state != ModemState.READY:
            await self._try(chan, "AT+COPS=3,0")
        lines = await self._try(chan, "AT+COPS?")
        if lines:
            with contextlib.suppress(C.ParseError):
                self.operator = C.parse_cops(lines)
        if self.cnmi is not None and self.state == ModemState.READY:
            lines = await self._try(chan, "AT+CNMI?")
            if lines:
                with contextlib.suppress(C.ParseError):
                    current = C.parse_cnmi_read(lines)
                    if current[: len(self.cnmi)] != self.cnmi:
                        log.warning("%s: the modem forgot CNMI (%s): restoring it", self.config.id, current)
                        await self._try(chan, C.cnmi(self.cnmi))
                        self._emit(SweepNeeded("CNMI was lost"))
        await self._refresh_storage(chan)

    # ================================================================ URCs
    def _on_urc(self, urc: Urc) -> None:
        name = urc.name
        if urc.kind == UrcKind.RESTART:
            self._flag_restart(f"modem restarted ({urc.text})")
        elif name in ("+CMTI", "+CDSI"):
            f = C.split_fields(urc.value)
            try:
                mem, index = f[0].upper(), int(f[1])
            except (IndexError, ValueError):
                log.warning("%s: malformed %r: sweeping", self.config.id, urc.text)
                self._emit(SweepNeeded(f"malformed {name}"))
                return
            if (mem, index) in self._announced:
                log.debug("%s: duplicate %r ignored", self.config.id, urc.text)
                return
            self._announced.add((mem, index))
            self._emit(MessageStored(mem, index) if name == "+CMTI" else ReportStored(mem, index))
        elif name in ("+CMT", "+CDS"):
            if urc.pdu is None:
                self._emit(SweepNeeded(f"{name} without its PDU"))
                return
            f = C.split_fields(urc.value)
            try:
                length = int(f[-1])
            except ValueError:
                length = len(urc.pdu) // 2
            self._emit(MessageDirect(urc.pdu, length) if name == "+CMT" else ReportDirect(urc.pdu, length))
        elif name == "+CREG":
            with contextlib.suppress(C.ParseError, IndexError):
                self._set_registration(C.parse_creg([urc.text], unsolicited=True).name)
        elif name == "^RSSI":
            with contextlib.suppress(ValueError):
                self.signal_dbm = C.csq_to_dbm(int(urc.value))
        elif name in MEMORY_FULL_URCS and _says_memory_full(urc):
            self._set_sim_full(True, urc.text)
        else:
            log.debug("%s: unsolicited %r", self.config.id, urc.text)

    def _flag_restart(self, reason: str) -> None:
        if self._restart_seen is None:
            self._restart_seen = reason
            self._wake.set()

    def _set_sim_full(self, full: bool, why: str) -> None:
        """A full SIM makes the network hold new messages: report it, and sweep to empty it."""
        if full and not self.sim_full:
            log.warning("%s: SIM message storage full (%s): sweeping it empty", self.config.id, why)
            self._emit(SweepNeeded("SIM storage full"))
        elif self.sim_full and not full:
            log.info("%s: SIM message storage has room again (%s)", self.config.id, why)
        self.sim_full = full

    def _emit(self, event: ModemEvent) -> None:
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("%s: event queue full, dropped %r (a later sweep finds stored messages)",
                        self.config.id, event)

    # ================================================================ state
    def _set_state(self, state: ModemState, reason: str) -> None:
        if state == self.state and reason == self.state_reason:
            return
        self.state, self.state_reason = state, reason
        level = logging.WARNING if state in (ModemState.RECOVERING, ModemState.FAILED) else logging.INFO
        log.log(level, "%s: %s (%s)", self.config.id, state.value, reason)
        self._emit(StateChanged(state, reason))

    def _set_registration(self, name: str) -> None:
        if name != self.registration:
            level = logging.INFO if name in ("home", "roaming") else logging.WARNING
            log.log(level, "%s: network registration: %s -> %s", self.config.id, self.registration, name)
            self.registration = name

    def _error(self, text: str) -> None:
        self.last_error = text

    def _ready_summary(self) -> str:
        i = self.info
        cnmi = ",".join(map(str, self.cnmi)) if self.cnmi else "none"
        return (f"{i.manufacturer or '?'} {i.model or '?'} profile={self._profile.name} cnmi={cnmi} "
                f"storage={self._mem1} signal={self.signal_dbm} dBm {self.registration}")

    def snapshot(self) -> ModemSnapshot:
        swap = self.sim_swap
        return ModemSnapshot(
            id=self.config.id, port=self.config.port, state=self.state, state_reason=self.state_reason,
            info=self.info, signal_dbm=self.signal_dbm, registration=self.registration,
            operator=self.operator,
            storage={m: StorageFill(u, t) for m, (u, t) in self.storage.items()}, sim_full=self.sim_full,
            sim_swap=swap.describe() if swap else None, cnmi=self.cnmi,
            recovery=RecoveryStats(self.ladder.failures, self._metrics.recoveries()),
            last_error=self.last_error,
        )


def _says_memory_full(urc: Urc) -> bool:
    """``^SMMEMFULL: "SM"`` (Huawei), ``+CIEV: "SMSFULL",1`` (SIMCom); not other +CIEV indicators."""
    if urc.name == "^SMMEMFULL":
        return True
    f = C.split_fields(urc.value)
    return len(f) >= 2 and f[0].upper() in ("SMSFULL", "MESSAGE FULL") and f[1] == "1"

