"""The modem driver: supervision (open, identify, PIN, init, health, recovery) and the bridge's operations.

``run()`` never raises because of the modem: timeouts, errors, a restarted modem or a vanished port lead
to recovery (re-init, reopen with a doubling delay); only a SIM that needs a human (PIN, PUK) parks it in
FAILED. Operations (read, delete, send ...) wait for READY up to their timeout instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from modembridge.at import commands as C
from modembridge.at.channel import AtChannel
from modembridge.at.commands import StoredPdu
from modembridge.at.errors import (
    AtError,
    AtTimeout,
    CmeError,
    CmsError,
    ModemUnavailable,
    PromptTimeout,
    SendErrorClass,
)
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
from modembridge.at.parser import AtParser, Urc, UrcKind
from modembridge.at.quirks import CNMI_DIRECT, GENERIC, QuirkProfile, detect_profile, get_profile
from modembridge.config import ModemConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

LISTABLE_MEMS = ("SM", "ME", "SR")  # MT is SM+ME again; BM holds cell broadcasts
_BUSY_CMS = frozenset({314, 515})
_BUSY_CME = frozenset({14})


class SimNeedsHuman(Exception):
    """The SIM cannot be used without a person: wrong or missing PIN, PUK, no SIM."""

    def __init__(self, reason: str, *, retry: bool = False) -> None:
        super().__init__(reason)
        self.retry = retry  # no SIM: look again after a long delay; PIN/PUK: never


class _Reinit(Exception):
    pass


def _busy(e: AtError) -> bool:
    if isinstance(e, CmsError):
        return e.code in _BUSY_CMS
    return isinstance(e, CmeError) and e.code in _BUSY_CME


class Modem:
    """One serial GSM modem. Start ``run()`` as a task; use the operations from other tasks."""

    def __init__(self, config: ModemConfig, *, events: asyncio.Queue[ModemEvent] | None = None,
                 reconnect_delay: tuple[float, float] = (1.0, 60.0), sync_timeout: float = 2.0) -> None:
        self.config = config
        self.events: asyncio.Queue[ModemEvent] = events if events is not None else asyncio.Queue()
        self.state = ModemState.STOPPED
        self.state_reason = "not started"
        self.info = ModemInfo()
        self.signal_dbm: int | None = None
        self.registration = "unknown"
        self.operator: str | None = None
        self.storage: dict[str, tuple[int, int]] = {}
        self.last_error: str | None = None
        self.cnmi: tuple[int, ...] | None = None
        self._reconnect = reconnect_delay
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
        self._pin_rejected: str | None = None
        self._mem1: str | None = None
        self._mems: list[str] = [config.storage]
        self._announced: set[tuple[str, int]] = set()

    # ================================================================ supervision
    async def run(self) -> None:
        """Supervise the modem until cancelled or stop(); never raises because of the modem."""
        self._stopping = False
        self._stop_evt.clear()
        self._done.clear()
        delay_min, delay_max = self._reconnect
        delay = delay_min
        try:
            while not self._stopping:
                self._set_state(ModemState.CONNECTING, f"opening {self.config.port}")
                try:
                    chan = await AtChannel.open(self.config.port, self.config.baud, self._parser,
                                                self._on_urc, name=self.config.id)
                except ModemUnavailable as e:
                    self._error(str(e))
                    log.warning("%s: %s; retrying in %.3gs", self.config.id, e, delay)
                    await self._sleep(delay)
                    delay = min(delay * 2, delay_max)
                    continue
                self._chan = chan
                reached_ready = False
                try:
                    reached_ready = await self._session(chan)
                except SimNeedsHuman as e:
                    self._error(str(e))
                    self._set_state(ModemState.FAILED, str(e))
                    await self._close(chan)
                    await self._sleep(delay_max * 10 if e.retry else None)
                    continue
                except AtError as e:
                    self._error(str(e))
                    reached_ready = reached_ready or self.state == ModemState.READY
                    if not self._stopping:
                        self._set_state(ModemState.RECOVERING, str(e))
                except Exception as e:  # a bug must not end supervision: log it and start over
                    log.exception("%s: unexpected error", self.config.id)
                    self._error(f"internal error: {e!r}")
                    if not self._stopping:
                        self._set_state(ModemState.RECOVERING, f"internal error: {e!r}")
                finally:
                    self._ready.clear()
                    await self._close(chan)
                if reached_ready or self._restart_seen:
                    delay = delay_min
                if not self._stopping:
                    await self._sleep(delay)
                    delay = min(delay * 2, delay_max)
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

    async def _close(self, chan: AtChannel) -> None:
        self._chan = None
        # stopping: let the exchange in progress (possibly an AT+CMGS) finish first
        await chan.close(grace=self.config.send_timeout if self._stopping else 0.0)

    async def _sleep(self, delay: float | None) -> None:
        """Sleep, unless stop() is called; None = until stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_evt.wait(), delay)

    async def _session(self, chan: AtChannel) -> bool:
        """Initialise, then supervise; re-initialise on a modem restart. Returns when stopping."""
        ready_once = False
        reason = "port opened"
        while not self._stopping:
            self._set_state(ModemState.INITIALIZING, reason)
            async with self._op_lock:
                await self._initialise(chan)
            self._set_state(ModemState.READY, self._ready_summary())
            ready_once = True
            self._ready.set()
            self._emit(SweepNeeded("modem ready"))
            try:
                await self._supervise(chan)
            except _Reinit as e:
                reason = str(e)
                log.warning("%s: %s: re-initialising", self.config.id, reason)
            finally:
                self._ready.clear()
        return ready_once

    async def _supervise(self, chan: AtChannel) -> None:
        loop = asyncio.get_running_loop()
        next_health = loop.time() + self.config.health_interval
        next_sweep = loop.time() + self.config.sweep_interval
        while not self._stopping:
            timeout = max(0.0, min(next_health, next_sweep) - loop.time())
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
            if self._check_needed:
                why, self._check_needed = self._check_needed, None
                log.info("%s: checking the modem after: %s", self.config.id, why)
                next_health = 0.0
            now = loop.time()
            if now >= next_health:
                async with self._op_lock:
                    await self._health(chan)
                next_health = loop.time() + self.config.health_interval
            if now >= next_sweep:
                self._emit(SweepNeeded("periodic sweep"))
                next_sweep = loop.time() + self.config.sweep_interval

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

    async def _cmd_busy(self, chan: AtChannel, command: str, tries: int = 10) -> list[str]:
        """A command retried with a short back-off while the SIM or modem says busy."""
        for attempt in range(tries):
            try:
                return await self._cmd(chan, command)
            except (CmsError, CmeError) as e:
                if not _busy(e) or attempt == tries - 1:
                    raise
                await self._sleep(0.5 + 0.25 * attempt)
        raise AssertionError("unreachable")

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
        await self._unlock(chan)
        await self._identify_sim(chan)
        try:
            await self._cmd_busy(chan, "AT+CMGF=0")
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

        self.info.manufacturer = await ident("AT+CGMI")
        self.info.model = await ident("AT+CGMM")
        self.info.revision = await ident("AT+CGMR")
        self.info.imei = await ident("AT+CGSN")
        if self.config.profile == "auto":
            self._profile = detect_profile(self.info.manufacturer or "", self.info.model or "")
        self.info.profile = self._profile.name
        self._parser.set_patterns(noise=self._profile.noise, restart=self._profile.restart)

    async def _identify_sim(self, chan: AtChannel) -> None:
        lines = await self._try(chan, "AT+CIMI")
        with contextlib.suppress(C.ParseError):
            self.info.imsi = C.parse_identity(lines) if lines else None
        for cmd in self._profile.ccid:
            lines = await self._try(chan, cmd)
            if lines:
                try:
                    self.info.iccid = C.parse_iccid(lines)
                    break
                except C.ParseError:
                    continue

    async def _unlock(self, chan: AtChannel) -> None:
        """SIM PIN handling. Never retries a PIN the SIM rejected (three wrong PINs lock the SIM)."""
        if self._pin_rejected:
            raise SimNeedsHuman(self._pin_rejected)
        entered = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(30.0, 3 * self.config.command_timeout)
        while True:
            try:
                state = C.parse_cpin(await self._cmd(chan, "AT+CPIN?"))
            except CmeError as e:
                if e.code == 10:
                    raise SimNeedsHuman("no SIM card inserted", retry=True) from e
                if e.code in (13, 15):
                    raise SimNeedsHuman(f"SIM failure: {e}", retry=True) from e
                if (e.code in (14, 100) or e.code is None) and loop.time() < deadline:
                    await self._sleep(0.5)  # SIM busy / not ready yet after boot or PIN entry
                    continue
                raise
            if state in ("READY", "SIM PIN2", "SIM PUK2"):
                return
            if state == "SIM PIN":
                if entered:
                    if loop.time() < deadline:
                        await self._sleep(0.5)
                        continue
                    raise SimNeedsHuman("SIM still asks for its PIN after the PIN was accepted")
                if not self.config.pin:
                    raise SimNeedsHuman("the SIM is PIN-locked and no pin is configured for this modem")
                if not (self.config.pin.isdigit() and 4 <= len(self.config.pin) <= 8):
                    raise SimNeedsHuman("the configured pin is not 4 to 8 digits")
                try:
                    await self._cmd(chan, C.cpin(self.config.pin))
                except CmeError as e:
                    if _busy(e):
                        await self._sleep(0.5)
                        continue
                    self._pin_rejected = (f"the SIM rejected the configured PIN ({e}); not retrying: three "
                                          "wrong PINs lock the SIM. Fix the pin and restart")
                    raise SimNeedsHuman(self._pin_rejected) from e
                entered = True
                log.info("%s: SIM PIN accepted", self.config.id)
                continue
            if "PUK" in state:
                raise SimNeedsHuman("the SIM is PUK-locked (too many wrong PINs): unlock it in a phone")
            raise SimNeedsHuman(f"the SIM needs {state}")

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
                await self._cmd_busy(chan, attempt)
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
        else:
            log.debug("%s: unsolicited %r", self.config.id, urc.text)

    def _flag_restart(self, reason: str) -> None:
        if self._restart_seen is None:
            self._restart_seen = reason
            self._wake.set()

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

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.config.id,
            "port": self.config.port,
            "state": self.state.value,
            "state_reason": self.state_reason,
            "info": self.info.to_json(),
            "signal_dbm": self.signal_dbm,
            "registration": self.registration,
            "operator": self.operator,
            "storage": {m: {"used": u, "total": t} for m, (u, t) in self.storage.items()},
            "cnmi": list(self.cnmi) if self.cnmi else None,
            "last_error": self.last_error,
        }

    # ================================================================ operations for the bridge
    async def _op(self, timeout: float, fn: Callable[[AtChannel, float], Awaitable[T]]) -> T:
        """Wait for READY (up to timeout), run fn; a timeout makes the supervisor check the modem."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._stopping:
            raise ModemUnavailable(f"{self.config.id}: stopped")
        if self.state == ModemState.FAILED:
            raise ModemUnavailable(f"{self.config.id}: failed: {self.state_reason}")
        while True:
            if loop.time() >= deadline:
                raise ModemUnavailable(f"{self.config.id}: not ready within {timeout:g}s "
                                       f"({self.state.value}: {self.state_reason})")
            if not self._ready.is_set():
                waits = [asyncio.ensure_future(self._ready.wait()),
                         asyncio.ensure_future(self._stop_evt.wait())]
                try:
                    await asyncio.wait(waits, timeout=max(0.0, deadline - loop.time()),
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
                if self._stop_evt.is_set():
                    raise ModemUnavailable(f"{self.config.id}: stopping")
                if not self._ready.is_set():
                    raise ModemUnavailable(f"{self.config.id}: not ready within {timeout:g}s "
                                           f"({self.state.value}: {self.state_reason})")
            # the whole operation (memory selection + command) is atomic with respect to other operations,
            # health polls and re-initialisation
            async with self._op_lock:
                if self._stopping:
                    raise ModemUnavailable(f"{self.config.id}: stopping")
                chan = self._chan
                if self._ready.is_set() and chan is not None and chan.is_open:
                    try:
                        return await fn(chan, max(self.config.command_timeout, deadline - loop.time()))
                    except (AtTimeout, PromptTimeout) as e:
                        self._error(str(e))
                        if self._check_needed is None:
                            self._check_needed = str(e)
                            self._wake.set()
                        raise
                    except ModemUnavailable as e:
                        self._error(str(e))
                        raise
            # the port went down while we waited for the lock: let the supervisor notice, then wait for READY
            await asyncio.sleep(0.05)

    async def _busy_retry(self, chan: AtChannel, command: str, timeout: float) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        attempt = 0
        while True:
            try:
                return await self._cmd(chan, command, max(0.5, deadline - loop.time()))
            except (CmsError, CmeError) as e:
                attempt += 1
                if not _busy(e) or loop.time() + 0.5 * attempt >= deadline:
                    raise
                await asyncio.sleep(0.5 * attempt)

    async def _select(self, chan: AtChannel, mem: str, timeout: float) -> None:
        mem = mem.upper()
        if self._mem1 == mem:
            return
        lines = await self._busy_retry(chan, C.cpms(mem), timeout)
        self._mem1 = mem
        with contextlib.suppress(C.ParseError):
            for name, used, total in C.parse_cpms_set(lines, [mem])[:1]:
                self.storage[name] = (used, total)

    async def read(self, mem: str, index: int) -> StoredPdu | None:
        """AT+CMGR in memory ``mem`` (selected first if needed); None for an empty slot."""
        async def op(chan: AtChannel, t: float) -> StoredPdu | None:
            await self._select(chan, mem, t)
            try:
                lines = await self._busy_retry(chan, C.cmgr(index), t)
            except CmsError as e:
                if e.code == 321:
                    return None
                raise
            except CmeError as e:
                if e.code in (21, 22):
                    return None
                raise
            got = C.parse_cmgr(lines, mem.upper(), index)
            if got is None:
                self._announced.discard((mem.upper(), index))  # an empty slot: a new +CMTI for it is news
            return got

        return await self._op(self.config.command_timeout, op)

    async def list_stored(self) -> list[StoredPdu]:
        """AT+CMGL=4 over every memory that can hold messages or reports (SM, ME, SR as offered)."""
        async def op(chan: AtChannel, t: float) -> list[StoredPdu]:
            out: list[StoredPdu] = []
            for mem in self._mems:
                try:
                    await self._select(chan, mem, t)
                    lines = await self._busy_retry(chan, C.cmgl(4), t)
                except (AtTimeout, ModemUnavailable):
                    raise
                except AtError as e:
                    log.debug("%s: listing %s failed: %s", self.config.id, mem, e)
                    continue
                found = C.parse_cmgl(lines, mem)
                out.extend(found)
                # slots announced but no longer stored (deleted elsewhere) may be announced again
                present = {p.index for p in found}
                self._announced = {a for a in self._announced if a[0] != mem or a[1] in present}
            if self.config.storage.upper() in self._mems:
                with contextlib.suppress(AtError):
                    await self._select(chan, self.config.storage, t)
            return out

        return await self._op(self.config.command_timeout * max(1, len(self._mems)), op)

    async def delete(self, mem: str, index: int) -> None:
        """AT+CMGD; deleting an empty slot is not an error."""
        async def op(chan: AtChannel, t: float) -> None:
            await self._select(chan, mem, t)
            # Forget the announcement before the command: the modem may store the next waiting message in
            # this slot and announce it right behind the OK, before this coroutine resumes.
            self._announced.discard((mem.upper(), index))
            try:
                await self._busy_retry(chan, C.cmgd(index), t)
            except CmsError as e:
                if e.code != 321:
                    raise

        await self._op(self.config.command_timeout, op)

    async def ack(self) -> None:
        """+CNMA for a MessageDirect / ReportDirect (an error, e.g. no ack expected, is only logged)."""
        async def op(chan: AtChannel, t: float) -> None:
            try:
                await self._cmd(chan, "AT+CNMA", t)
            except (AtTimeout, ModemUnavailable):
                raise
            except AtError as e:
                log.debug("%s: AT+CNMA: %s", self.config.id, e)

        await self._op(self.config.command_timeout, op)

    async def send(self, pdu_hex: str, tpdu_length: int) -> int:
        """AT+CMGS=<tpdu_length>, then the PDU (with its SMSC prefix) at the prompt; the message reference.

        Raises CmsError (every error result, with .error_class), AtTimeout (the PDU was written but not
        confirmed: outcome unknown), PromptTimeout or ModemUnavailable (certainly not sent).
        """
        command = C.cmgs(tpdu_length)

        async def op(chan: AtChannel, t: float) -> int:
            try:
                # always the full send timeout: a premature timeout would make the outcome unknown
                lines = await chan.command_prompt(command, pdu_hex, max(t, self.config.send_timeout))
            except (CmsError, AtTimeout, PromptTimeout, ModemUnavailable):
                raise
            except CmeError as e:
                raise CmsError(None, str(e), e.error_class, command=command) from e
            except AtError as e:
                raise CmsError(None, str(e), SendErrorClass.RETRY_LATER, command=command) from e
            try:
                return C.parse_cmgs(lines)
            except C.ParseError as e:
                log.warning("%s: AT+CMGS answered OK without a reference: %r", self.config.id, lines)
                raise CmsError(None, f"no +CMGS reference in {lines!r}", SendErrorClass.RETRY_LATER) from e

        return await self._op(self.config.send_timeout, op)

