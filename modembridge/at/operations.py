"""What the bridge asks of a modem: read, list, delete, acknowledge, send.

Every operation waits for READY (up to its timeout) instead of failing, runs atomically with respect to
other operations, health polls and re-initialisation (the supervisor's lock), and reports a command
timeout to the supervisor so it checks the modem at once (the first rung of recovery: a ping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from modembridge.at import commands as C
from modembridge.at.commands import StoredPdu
from modembridge.at.errors import (
    AtTimeout,
    CmeError,
    CmsError,
    ModemUnavailable,
    PromptTimeout,
    ResultError,
    ResyncTimeout,
    SendFailed,
)
from modembridge.at.events import ModemState
from modembridge.at.session import Session
from modembridge.at.status import ModemStatus
from modembridge.config import ModemConfig

log = logging.getLogger("modembridge.at.modem")
T = TypeVar("T")


class Gate(Protocol):
    """What the operations need of the supervisor: when the modem may be used, and telling it how it went."""

    lock: asyncio.Lock  # one exchange at a time
    ready: asyncio.Event  # set while READY
    stop_requested: asyncio.Event
    stopping: bool
    session: Session | None
    memories: list[str]  # what list_stored() goes over (SM, ME, SR as the modem offers them)
    ussd_waiter: asyncio.Future[str] | None  # set while an AT+CUSD waits for its +CUSD answer

    def command_timed_out(self, reason: str) -> None: ...

    def command_answered(self) -> None: ...

    def acknowledging(self, seq: int | None) -> bool: ...

    async def acknowledged(self, s: Session) -> None: ...


class Operations:
    def __init__(self, config: ModemConfig, status: ModemStatus, gate: Gate) -> None:
        self.config = config
        self.status = status
        self.gate = gate

    async def _op(self, timeout: float, fn: Callable[[Session, float], Awaitable[T]]) -> T:
        """Wait for READY and the lock (up to timeout), then run fn(session, command_timeout); a command
        timeout makes the supervisor check the modem at once. Each command gets command_timeout of silence
        (not the operation's budget), so a hang shows within command_timeout whatever the operation."""
        gate, cid = self.gate, self.config.id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if gate.stopping:
            raise ModemUnavailable(f"{cid}: stopped")
        if self.status.state == ModemState.FAILED:
            raise ModemUnavailable(f"{cid}: failed: {self.status.state_reason}")
        while True:
            if loop.time() >= deadline:
                raise self._not_ready(timeout)
            if not gate.ready.is_set():
                waits = [asyncio.ensure_future(gate.ready.wait()),
                         asyncio.ensure_future(gate.stop_requested.wait())]
                try:
                    await asyncio.wait(waits, timeout=max(0.0, deadline - loop.time()),
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
                if gate.stop_requested.is_set():
                    raise ModemUnavailable(f"{cid}: stopping")
                if not gate.ready.is_set():
                    raise self._not_ready(timeout)
            async with gate.lock:
                if gate.stopping:
                    raise ModemUnavailable(f"{cid}: stopping")
                session = gate.session
                if gate.ready.is_set() and session is not None and session.is_open:
                    try:
                        result = await fn(session, self.config.command_timeout)
                    except (AtTimeout, PromptTimeout) as e:
                        self.status.error(str(e))
                        session.mem1 = None  # a late answer may still change the selected memory
                        gate.command_timed_out(str(e))
                        raise
                    except ModemUnavailable as e:
                        self.status.error(str(e))
                        raise
                    gate.command_answered()
                    return result
            # the port went down while we waited for the lock: let the supervisor notice, then wait for READY
            await asyncio.sleep(0.05)

    def _not_ready(self, timeout: float) -> ModemUnavailable:
        return ModemUnavailable(f"{self.config.id}: not ready within {timeout:g}s "
                                f"({self.status.state.value}: {self.status.state_reason})")

    async def _select(self, s: Session, mem: str, timeout: float) -> None:
        for name, used, total in await s.select(mem, timeout):
            self.status.storage[name] = (used, total)

    async def read(self, mem: str, index: int) -> StoredPdu | None:
        """AT+CMGR in memory ``mem`` (selected first if needed); None for an empty slot."""
        async def op(s: Session, t: float) -> StoredPdu | None:
            await self._select(s, mem, t)
            try:
                lines = await s.busy_retry(C.cmgr(index), t)
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
                s.announced.discard((mem.upper(), index))  # an empty slot: a new +CMTI for it is news
            return got

        return await self._op(self.config.command_timeout, op)

    async def list_stored(self) -> list[StoredPdu]:
        """AT+CMGL=4 over every memory that can hold messages or reports (SM, ME, SR as offered)."""
        async def op(s: Session, t: float) -> list[StoredPdu]:
            out: list[StoredPdu] = []
            memories = self.gate.memories
            for mem in memories:
                try:
                    await self._select(s, mem, t)
                    lines = await s.busy_retry(C.cmgl(4), t)
                except ResultError as e:
                    log.debug("%s: listing %s failed: %s", self.config.id, mem, e)
                    continue
                found = C.parse_cmgl(lines, mem)
                out.extend(found)
                # slots announced but no longer stored (deleted elsewhere) may be announced again
                present = {p.index for p in found}
                s.announced = {a for a in s.announced if a[0] != mem or a[1] in present}
            if self.config.storage.upper() in memories:
                with contextlib.suppress(ResultError):
                    await self._select(s, self.config.storage, t)
            return out

        return await self._op(self.config.command_timeout * max(1, len(self.gate.memories)), op)

    async def delete(self, mem: str, index: int) -> None:
        """AT+CMGD; deleting an empty slot is not an error."""
        async def op(s: Session, t: float) -> None:
            await self._select(s, mem, t)
            # Forget the announcement before the command: the modem may store the next waiting message in
            # this slot and announce it right behind the OK, before this coroutine resumes.
            s.announced.discard((mem.upper(), index))
            try:
                await s.busy_retry(C.cmgd(index), t)
            except CmsError as e:
                if e.code != 321:
                    raise

        await self._op(self.config.command_timeout, op)

    async def ack(self, seq: int | None = None) -> None:
        """+CNMA for a MessageDirect / ReportDirect (an error, e.g. no ack expected, is only logged).

        ``seq``: the event's; when the +CMT/+CDS it names was refused meanwhile (the bridge took too long),
        or the modem was initialised again since, no AT+CNMA is sent: it would acknowledge the modem's next
        delivery, which nobody has journalled yet. None: acknowledge whatever waits (the caller does not
        say which)."""
        async def op(s: Session, t: float) -> None:
            # decided before the command: the ME may deliver the next +CMT right behind our OK
            if not self.gate.acknowledging(seq):
                log.debug("%s: +CMT/+CDS #%s was refused or the modem re-initialised since: no AT+CNMA",
                          self.config.id, seq)
            else:
                try:
                    await s.cmd("AT+CNMA", t)
                except ResultError as e:
                    log.debug("%s: AT+CNMA: %s", self.config.id, e)
            await self.gate.acknowledged(s)  # after it: a +CMT routed again now must not take this ack

        await self._op(self.config.command_timeout, op)

    async def send(self, pdu_hex: str, tpdu_length: int, before_pdu: Awaitable[bool] | None = None) -> int:
        """AT+CMGS=<tpdu_length>, then the PDU (with its SMSC prefix) at the prompt; the message reference.
        ``before_pdu`` is awaited at the prompt; False withholds the PDU (PayloadWithheld: nothing sent).

        Raises SendFailed (every error result, with .error_class), AtTimeout (the PDU was written but not
        confirmed: outcome unknown), PromptTimeout or ModemUnavailable (certainly not sent).
        The prompt is awaited for ``command_timeout`` (a modem that does not prompt is hung, not busy);
        the network's answer for ``send_timeout``.
        """
        command = C.cmgs(tpdu_length)

        async def op(s: Session, t: float) -> int:
            try:
                # the network's answer may take send_timeout: a premature timeout would make it unknown
                lines = await s.chan.command_prompt(command, pdu_hex, self.config.send_timeout,
                                                    prompt_timeout=t, before_payload=before_pdu)
            except ResyncTimeout as e:  # the modem did not answer before AT+CMGS was even written
                raise PromptTimeout(f"{e} (AT+CMGS not written: nothing sent)", command=command) from e
            except ResultError as e:
                raise SendFailed(e) from e
            try:
                return C.parse_cmgs(lines)
            except C.ParseError as e:
                log.warning("%s: AT+CMGS answered OK without a reference: %r", self.config.id, lines)
                raise SendFailed(C.ParseError(f"no +CMGS reference in {lines!r}", command=command)) from e

        return await self._op(self.config.send_timeout, op)

    async def ussd(self, string: str, dcs: int, answer_timeout: float) -> C.UssdResult:
        """``AT+CUSD=1,"<string>",<dcs>``, then its ``+CUSD`` answer (in the response, or unsolicited up to
        `answer_timeout` later). The wait holds no lock: sends and reads go on meanwhile, and the command
        itself waits its turn between exchanges. TimeoutError when the network does not answer; an error
        result (no USSD support, a malformed code) raises ResultError."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()

        async def op(s: Session, t: float) -> list[str]:
            self.gate.ussd_waiter = waiter  # armed only now: a +CUSD before our command is not our answer
            return await s.cmd(C.cusd(string, dcs), t)

        try:
            lines = await self._op(self.config.command_timeout, op)
            answer = next((line for line in lines if line.upper().startswith("+CUSD")), None)
            if answer is None:
                answer = await asyncio.wait_for(waiter, answer_timeout)
            return C.parse_cusd(answer)
        finally:
            if self.gate.ussd_waiter is waiter:
                self.gate.ussd_waiter = None

    async def ussd_cancel(self) -> None:
        """``AT+CUSD=2``: end the USSD session in progress (an error, e.g. none open, is only logged)."""
        async def op(s: Session, t: float) -> None:
            try:
                await s.cmd(C.CUSD_CANCEL, t)
            except ResultError as e:
                log.debug("%s: AT+CUSD=2: %s", self.config.id, e)

        await self._op(self.config.command_timeout, op)

    async def hang_up(self, command: str) -> None:
        """Reject a ringing call (``ATH`` or ``AT+CHUP``); waits its turn between exchanges like any
        command, so it never breaks a send or a read. An error result is only logged."""
        async def op(s: Session, t: float) -> None:
            try:
                await s.cmd(command, t)
            except ResultError as e:
                log.info("%s: %s: %s", self.config.id, command, e)

        await self._op(self.config.command_timeout, op)
