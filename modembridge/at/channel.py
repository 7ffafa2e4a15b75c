"""The asyncio AT channel: one AT command in flight, per-command timeouts, the ``> `` prompt exchange,
URCs handed to a callback, and a vanished port reported as :class:`ModemUnavailable` (never a crash).
The port is opened through a :class:`~modembridge.at.connector.Connector` (serial by default)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from modembridge.at.connector import SERIAL, Connector, describe_open_error
from modembridge.at.errors import (
    CME_TEXT,
    CMS_TEXT,
    AtTimeout,
    CmeError,
    CmsError,
    ErrorResult,
    ModemUnavailable,
    PayloadWithheld,
    PromptTimeout,
    ResultError,
    ResyncTimeout,
)
from modembridge.at.parser import AtParser, Echo, Final, FinalKind, Info, Prompt, Urc

log = logging.getLogger(__name__)

RESYNC_QUIET = 0.2  # seconds of silence that end a resynchronisation
LATE_ANSWER_QUIET = 1.0  # after a timeout: how long the line must be quiet before the next command
RESYNC_TIMEOUT = 2.0  # for the AT that checks the modem answers again
RESYNC_ROUNDS = 3
LONG_ANSWER_FACTOR = 4  # a command still streaming information lines may take this many timeouts
CTRL_Z = b"\x1a"
ESC = b"\x1b"


class _Expired(Exception):
    """Set on an exchange's future when its deadline passes (told apart from a lost port's error)."""


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(_Expired())


def raise_for(final: Final, command: str) -> None:
    """Turn an error final result into the matching exception; OK returns."""
    if final.ok:
        return
    if final.kind is FinalKind.CME:
        raise CmeError(final.code if final.code is not None else _code_of(final.detail, CME_TEXT),
                       final.detail, command=command)
    if final.kind is FinalKind.CMS:
        raise CmsError(final.code if final.code is not None else _code_of(final.detail, CMS_TEXT),
                       final.detail, command=command)
    raise ErrorResult(f"{command}: {final.text}", result=final.text, command=command)


def _code_of(text: str, table: dict[int, str]) -> int | None:
    """The numeric code of a verbose (CMEE=2) error text, when it is a standard one."""
    key = text.strip().lower()
    return next((code for code, t in table.items() if t.lower() == key), None)


class AtChannel(asyncio.Protocol):
    """One open serial port speaking AT. Create with :meth:`open`; ``command()`` is serialised by a lock."""

    def __init__(self, parser: AtParser, on_urc: Callable[[Urc], None], *, name: str = "modem") -> None:
        self.parser = parser
        self.on_urc = on_urc
        self.name = name
        self.lock = asyncio.Lock()
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Final] | None = None
        self._prompt: asyncio.Future[None] | None = None
        self._prompt_seen = False  # a "> " arrived in the current prompt exchange
        self._info: list[str] = []
        self.last_rx = 0.0  # loop time of the last byte received
        self.last_final = 0.0  # loop time of the last final result (OK, ERROR ...): the modem answers
        self._last_info = 0.0  # loop time of the pending command's last information line
        # A command timed out: its answer may still arrive and must not be taken for the next command's.
        self.out_of_sync = False
        self.stray_finals = 0  # final results nobody waited for
        self._resync_quiet = RESYNC_QUIET
        self._quiet_since = 0.0  # loop time of the last timeout: a late answer may follow it

    # --- opening -------------------------------------------------------------------------------------
    @classmethod
    async def open(cls, port: str, baud: int, parser: AtParser, on_urc: Callable[[Urc], None], *,
                   name: str = "modem", connector: Connector = SERIAL) -> AtChannel:
        """Open the port exclusively (a second opener gets a clear 'busy' error); ModemUnavailable if not."""
        loop = asyncio.get_running_loop()
        chan = cls(parser, on_urc, name=name)
        parser.reset()
        try:
            transport = await connector.open(port, baud, chan)
        except OSError as e:
            raise ModemUnavailable(describe_open_error(port, e)) from e
        chan.transport = transport  # connection_made() only runs on the next loop iteration
        chan.last_final = loop.time()
        return chan

    # --- asyncio.Protocol ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = self.last_rx = asyncio.get_running_loop().time()
        for ev in self.parser.feed(data):
            if isinstance(ev, Info):
                self._info.append(ev.text)
                self._last_info = now
            elif isinstance(ev, Final):
                self.last_final = now
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result(ev)
                    if self._prompt is not None and not self._prompt.done():
                        self._prompt.set_result(None)  # a final instead of the prompt: wake its waiter
                else:
                    # Nobody waited for it: a late answer, or the real answer of a command that took someone
                    # else's. Either way the next command first gets back in step.
                    log.debug("%s: stray final result %r: resynchronising before the next command",
                              self.name, ev.text)
                    self.stray_finals += 1
                    self.out_of_sync = True
            elif isinstance(ev, Prompt):
                self._prompt_seen = True
                if self._prompt is not None and not self._prompt.done():
                    self._prompt.set_result(None)
            elif isinstance(ev, Urc):
                try:
                    self.on_urc(ev)
                except Exception:  # a bug in a consumer must not kill the reader
                    log.exception("%s: URC handler failed for %r", self.name, ev.text)
            elif isinstance(ev, Echo):
                log.debug("%s: echo %r", self.name, ev.text)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"port lost: {exc}" if exc else "port closed"
        self.lost_reason = reason
        self.lost.set()
        self.transport = None
        err = ModemUnavailable(f"{self.name}: {reason}")
        for fut in (self._waiter, self._prompt):
            if fut is not None and not fut.done():
                fut.set_exception(err)

    # --- commands ------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.lost.is_set()

    def _write(self, data: bytes) -> None:
        if self.transport is None or self.lost.is_set():
            raise ModemUnavailable(f"{self.name}: {self.lost_reason or 'port not open'}")
        self.transport.write(data)

    async def command(self, command: str, timeout: float) -> list[str]:
        """Write ``command`` + CR and wait for its final result: the information lines, or raise AtError.

        ``timeout`` bounds the silence: while information lines keep arriving (a long AT+CMGL at a low
        baud rate) the wait is extended, up to ``LONG_ANSWER_FACTOR`` times ``timeout`` in all.
        """
        async with self.lock:
            final = await self._exchange(command, timeout)
        raise_for(final, command)
        return list(self._info)

    async def command_prompt(self, command: str, payload: str, timeout: float,
                             prompt_timeout: float | None = None,
                             before_payload: Awaitable[bool] | None = None) -> list[str]:
        """``AT+CMGS=n`` style: write the command, wait for ``> `` (up to ``prompt_timeout``), write payload
        + Ctrl-Z (no CR), wait for the final result (the whole exchange within ``timeout``).

        ``before_payload``, if given, is awaited at the prompt: the command line goes out while the caller
        still makes its precondition true (a journal commit), and the payload only once it is. False:
        ESC instead of the payload, PayloadWithheld raised (nothing sent)."""
        async with self.lock:
            final = await self._exchange(command, timeout, payload=payload, prompt_timeout=prompt_timeout,
                                         before_payload=before_payload)
        raise_for(final, command)
        return list(self._info)

    async def _exchange(self, command: str, timeout: float, *, payload: str | None = None,
                        prompt_timeout: float | None = None,
                        before_payload: Awaitable[bool] | None = None) -> Final:
        loop = asyncio.get_running_loop()
        if self.out_of_sync:  # its own budget: a send's 60 s must not become a 60 s wait for a hung modem
            await self._resync(min(timeout, RESYNC_TIMEOUT))
        deadline = loop.time() + timeout
        try:
            return await self._exchange_once(command, deadline, timeout, payload, prompt_timeout,
                                             before_payload)
        except (AtTimeout, PromptTimeout):
            self.out_of_sync = True
            self._resync_quiet = LATE_ANSWER_QUIET  # its answer may still be on the way
            self._quiet_since = loop.time()
            raise

    async def _resync(self, timeout: float) -> None:
        """Get back in step after a timeout or a stray final result, so no command takes another's answer.

        Leave any prompt (ESC); wait until the line has been quiet for a while (a late answer arrives and
        is dropped); send a bare AT. Its answer must carry no information lines (else it was a late answer
        that came after the quiet period), and no further final result may follow within RESYNC_QUIET (else
        the one we took was late and this one is the AT's own). Otherwise: another round. ``timeout``
        bounds the AT's answer and the quiet wait.
        """
        loop = asyncio.get_running_loop()
        for _round in range(RESYNC_ROUNDS):
            self._escape()
            quiet = min(self._resync_quiet, timeout)
            deadline = loop.time() + 2 * (quiet + timeout)  # the modem may not chatter for ever
            await self._wait_quiet(quiet, deadline)
            strays = self.stray_finals
            try:
                await self._exchange_once("AT", loop.time() + timeout, timeout, None, None)
            except AtTimeout as e:
                raise ResyncTimeout(f"{self.name}: the modem does not answer ({e}); nothing else was "
                                    "written", command="AT") from e
            own = not self._info
            await self._wait_quiet(RESYNC_QUIET, deadline + RESYNC_QUIET)
            if own and self.stray_finals == strays:
                self.out_of_sync = False
                self._resync_quiet = RESYNC_QUIET
                log.info("%s: resynchronised", self.name)
                return
            log.info("%s: a late answer took the place of AT's: resynchronising again", self.name)
            self._resync_quiet = LATE_ANSWER_QUIET
        raise ResyncTimeout(f"{self.name}: cannot get in step with the modem", command="AT")

    async def _wait_quiet(self, period: float, deadline: float) -> None:
        """Until nothing was received for ``period`` seconds (counting from the last timeout at least)."""
        loop = asyncio.get_running_loop()
        while (idle := loop.time() - max(self.last_rx, self._quiet_since)) < period:
            if loop.time() + (period - idle) > deadline:
                raise ResyncTimeout(f"{self.name}: the modem keeps talking; cannot resynchronise",
                                    command="AT")
            await asyncio.sleep(period - idle)

    async def _exchange_once(
        self, command: str, deadline: float, timeout: float, payload: str | None,
        prompt_timeout: float | None, before_payload: Awaitable[bool] | None = None,
    ) -> Final:
        loop = asyncio.get_running_loop()
        self._info = []
        started = self._last_info = loop.time()
        waiter: asyncio.Future[Final] = loop.create_future()
        prompt: asyncio.Future[None] | None = loop.create_future() if payload is not None else None
        self._waiter, self._prompt = waiter, prompt
        self._prompt_seen = False
        self.parser.begin(command, prompt=payload is not None)  # the listener is in place before writing
        payload_written = False
        try:
            self._write(command.encode("ascii") + b"\r")
            if prompt is not None and payload is not None:
                # `prompt` resolves on the "> ", on a final result instead (data_received), on a lost port,
                # or with _Expired at the prompt deadline: one future and one timer, no asyncio.wait
                prompt_deadline = deadline if prompt_timeout is None else min(deadline,
                                                                              started + prompt_timeout)
                timer = loop.call_at(prompt_deadline, _expire, prompt)
                try:
                    await prompt
                except _Expired:
                    if not waiter.done():
                        waited = timeout if prompt_timeout is None else min(timeout, prompt_timeout)
                        raise PromptTimeout(f"{self.name}: no '> ' prompt for {command} within "
                                            f"{waited:.3g}s (nothing sent)", command=command) from None
                finally:
                    timer.cancel()
                if before_payload is not None:
                    held_from = loop.time()
                    withheld = not await before_payload
                    # the caller's COMMIT may have blocked the loop for its fsync: not the modem's time
                    held = loop.time() - held_from
                    deadline, started = deadline + held, started + held
                else:
                    withheld = False
                if waiter.done():  # an error (or the port lost) instead of the prompt, or while we waited
                    final = waiter.result()
                    if final.ok:  # a late OK of an earlier command: we are out of step with the modem
                        self.out_of_sync = True
                        raise ResultError(f"{self.name}: final result {final.text!r} before the '> ' "
                                          f"prompt of {command} (nothing sent)", command=command)
                    return final
                if withheld:  # the finally below writes ESC: the modem leaves the prompt, nothing is sent
                    self.out_of_sync = True  # whatever it answers to the ESC must not answer the next command
                    raise PayloadWithheld(f"{self.name}: {command}: the PDU was withheld at the prompt "
                                          "(nothing sent)", command=command)
                self.parser.expect_echo(payload)
                self._write(payload.encode("ascii") + CTRL_Z)
                payload_written = True
            try:
                return await self._final_of(waiter, deadline, started + timeout * LONG_ANSWER_FACTOR)
            except TimeoutError:
                raise AtTimeout(f"{self.name}: no answer to {command} within {timeout:.3g}s",
                                command=command) from None
            except ModemUnavailable as exc:
                if payload_written:  # the PDU left us: the network may have it, the outcome is unknown
                    raise AtTimeout(f"{exc} after the PDU of {command} was written (outcome unknown)",
                                    command=command) from exc
                raise
        finally:
            if prompt is not None and not payload_written:
                if self._prompt_seen and waiter.done():
                    # a final result (an earlier command's, late) came after the real "> ": the modem still
                    # waits for a PDU; leave the prompt and get back in step before the next command
                    self.out_of_sync = True
                if self._prompt_seen or not waiter.done():
                    self._escape()  # leave an open (or late) prompt without sending anything
            for fut in (prompt, waiter):
                if fut is None:
                    continue
                if not fut.done():
                    fut.cancel()
                elif not fut.cancelled():
                    fut.exception()  # retrieved: a lost port fails both; only one of them is awaited
            self.parser.end()
            self._waiter = self._prompt = None

    async def _final_of(self, waiter: asyncio.Future[Final], deadline: float, hard_deadline: float) -> Final:
        """Wait for the final result; information lines arriving near the deadline push it back (bounded).
        TimeoutError when it does not come. One timer, re-armed while lines arrive (no wait_for/shield
        per exchange: this is on every AT command's path)."""
        if waiter.done():
            return waiter.result()
        loop = asyncio.get_running_loop()
        silence = deadline - self._last_info
        timer: asyncio.TimerHandle

        def check() -> None:
            nonlocal timer
            extended = min(hard_deadline, self._last_info + silence)
            if extended > loop.time():
                timer = loop.call_at(extended, check)
            else:
                _expire(waiter)

        timer = loop.call_at(deadline, check)
        try:
            return await waiter
        except _Expired:
            raise TimeoutError from None
        finally:
            timer.cancel()

    def _escape(self) -> None:
        with contextlib.suppress(ModemUnavailable):
            self._write(ESC)

    def write_raw(self, data: bytes) -> None:
        """Bytes outside the command discipline (e.g. a bare ESC to leave a stuck prompt)."""
        self._write(data)

    async def close(self, *, grace: float = 0.0) -> None:
        """Close the port; with ``grace``, first let a command in progress finish (up to grace seconds)."""
        if grace > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lock.acquire(), grace)
                self.lock.release()
        t = self.transport
        if t is not None and not self.lost.is_set():
            t.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lost.wait(), 5.0)

