"""What the bridge asks of a modem: read, list, delete, acknowledge, send. Mixed into :class:`Modem`.

Every operation waits for READY (up to its timeout) instead of failing, runs atomically with respect to
other operations, health polls and re-initialisation, and reports a timeout to the supervisor so it checks
the modem at once (the first rung of recovery: a ping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
    ResyncTimeout,
    SendErrorClass,
)
from modembridge.at.events import ModemState
from modembridge.config import ModemConfig

log = logging.getLogger("modembridge.at.modem")
T = TypeVar("T")

BUSY_TRIES_FACTOR = 2  # a busy SIM gets this many command timeouts of retries
_BUSY_CMS = frozenset({314, 515})
_BUSY_CME = frozenset({14})


def is_busy(e: AtError) -> bool:
    """SIM or modem busy: worth a short pause and the same command again."""
    if isinstance(e, CmsError):
        return e.code in _BUSY_CMS
    return isinstance(e, CmeError) and e.code in _BUSY_CME


class ModemOperations:
    # provided by Modem
    config: ModemConfig
    state: ModemState
    state_reason: str
    storage: dict[str, tuple[int, int]]
    _chan: AtChannel | None
    _ready: asyncio.Event
    _stop_evt: asyncio.Event
    _op_lock: asyncio.Lock
    _stopping: bool
    _mem1: str | None
    _mems: list[str]
    _announced: set[tuple[str, int]]
    _op_timeouts: int

    def _error(self, text: str) -> None:
        raise NotImplementedError

    def _request_check(self, reason: str) -> None:
        raise NotImplementedError

    async def _cmd(self, chan: AtChannel, command: str, timeout: float | None = None) -> list[str]:
        raise NotImplementedError

    async def _op(self, timeout: float, fn: Callable[[AtChannel, float], Awaitable[T]]) -> T:
        """Wait for READY and the lock (up to timeout), then run fn(chan, command_timeout); a command timeout
        makes the supervisor check the modem at once. Each command gets command_timeout of silence (not
        the operation's budget), so a hang shows within command_timeout whatever the operation."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._stopping:
            raise ModemUnavailable(f"{self.config.id}: stopped")
        if self.state == ModemState.FAILED:
            raise ModemUnavailable(f"{self.config.id}: failed: {self.state_reason}")
        while True:
            if loop.time() >= deadline:
                raise self._not_ready(timeout)
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
                    raise self._not_ready(timeout)
            async with self._op_lock:
                if self._stopping:
                    raise ModemUnavailable(f"{self.config.id}: stopping")
                chan = self._chan
                if self._ready.is_set() and chan is not None and chan.is_open:
                    try:
                        result = await fn(chan, self.config.command_timeout)
                    except (AtTimeout, PromptTimeout) as e:
                        self._error(str(e))
                        self._mem1 = None  # a late answer may still change the selected memory
                        self._op_timeouts += 1
                        self._request_check(str(e))
                        raise
                    except ModemUnavailable as e:
                        self._error(str(e))
                        raise
                    self._op_timeouts = 0
                    return result
            # the port went down while we waited for the lock: let the supervisor notice, then wait for READY
            await asyncio.sleep(0.05)

    def _not_ready(self, timeout: float) -> ModemUnavailable:
        return ModemUnavailable(f"{self.config.id}: not ready within {timeout:g}s "
                                f"({self.state.value}: {self.state_reason})")

    async def _busy_retry(self, chan: AtChannel, command: str, timeout: float) -> list[str]:
        """``command`` with ``timeout`` of silence per try, tried again while the SIM says busy (for up to
        BUSY_TRIES_FACTOR x timeout in all)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout * BUSY_TRIES_FACTOR
        attempt = 0
        while True:
            try:
                return await self._cmd(chan, command, timeout)
            except (CmsError, CmeError) as e:
                attempt += 1
                if not is_busy(e) or loop.time() + 0.5 * attempt >= deadline:
                    raise
                await asyncio.sleep(0.5 * attempt)

    async def _select(self, chan: AtChannel, mem: str, timeout: float) -> None:
        mem = mem.upper()
        if self._mem1 == mem:
            return
        self._mem1 = None  # unknown until the answer: a late one may still switch the modem
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
        The prompt is awaited for ``command_timeout`` (a modem that does not prompt is hung, not busy);
        the network's answer for ``send_timeout``.
        """
        command = C.cmgs(tpdu_length)

        async def op(chan: AtChannel, t: float) -> int:
            try:
                # the network's answer may take send_timeout: a premature timeout would make it unknown
                lines = await chan.command_prompt(command, pdu_hex, self.config.send_timeout,
                                                  prompt_timeout=t)
            except ResyncTimeout as e:  # the modem did not answer before AT+CMGS was even written
                raise PromptTimeout(f"{e} (AT+CMGS not written: nothing sent)", command=command) from e
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
