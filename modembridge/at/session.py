"""One open port and what is known about the modem on it: the channel, the selected memory, the slots
announced by +CMTI, the echo hint; and the command helpers that every init step and operation uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from modembridge.at import commands as C
from modembridge.at.channel import AtChannel
from modembridge.at.errors import CmeError, CmsError, ResultError

log = logging.getLogger("modembridge.at.modem")

BUSY_TRIES_FACTOR = 2  # a busy SIM gets this many command timeouts of retries
_BUSY_CMS = frozenset({314, 515})
_BUSY_CME = frozenset({14})


def is_busy(e: ResultError) -> bool:
    """SIM or modem busy: worth a short pause and the same command again."""
    if isinstance(e, CmsError):
        return e.code in _BUSY_CMS
    return isinstance(e, CmeError) and e.code in _BUSY_CME


class Session:
    """The channel to one opened port, with the per-port state the driver keeps about the modem."""

    def __init__(self, chan: AtChannel, *, port: str, name: str, command_timeout: float,
                 on_echo: Callable[[], None] | None = None) -> None:
        self.chan = chan
        self.parser = chan.parser
        self.port = port
        self.name = name
        self.command_timeout = command_timeout
        self.on_echo = on_echo  # called when echo shows up again (a restarted modem echoes)
        self.mem1: str | None = None  # the memory AT+CPMS selected; None: unknown (a late answer may switch)
        self.announced: set[tuple[str, int]] = set()  # slots reported by +CMTI/+CDSI and not yet freed
        self.echo_hint = True  # echo seen after ATE0 means the modem restarted (unless it always echoes)

    @property
    def is_open(self) -> bool:
        return self.chan.is_open

    def forget(self) -> None:
        """A (re)initialisation starts: nothing selected, nothing announced."""
        self.mem1 = None
        self.announced.clear()

    async def cmd(self, command: str, timeout: float | None = None) -> list[str]:
        """The command's information lines; an error result or a timeout raises."""
        lines = await self.chan.command(command, timeout or self.command_timeout)
        if self.echo_hint and self.parser.echo_seen and self.on_echo is not None:
            self.on_echo()
        return lines

    async def best_effort(self, command: str) -> list[str] | None:
        """None on an error result (timeouts and a lost port still raise)."""
        try:
            return await self.cmd(command)
        except ResultError as e:
            log.debug("%s: %s failed: %s", self.name, command, e)
            return None

    async def busy_retry(self, command: str, timeout: float | None = None) -> list[str]:
        """``command`` with ``timeout`` of silence per try, tried again while the SIM says busy (for up to
        BUSY_TRIES_FACTOR x timeout in all)."""
        timeout = timeout or self.command_timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout * BUSY_TRIES_FACTOR
        attempt = 0
        while True:
            try:
                return await self.cmd(command, timeout)
            except (CmsError, CmeError) as e:
                attempt += 1
                if not is_busy(e) or loop.time() + 0.5 * attempt >= deadline:
                    raise
                await asyncio.sleep(0.5 * attempt)

    async def select(self, mem: str, timeout: float | None = None) -> list[tuple[str, int, int]]:
        """Select ``mem`` for AT+CMGR/CMGL/CMGD (once: it stays selected); its fill when the answer tells."""
        mem = mem.upper()
        if self.mem1 == mem:
            return []
        self.mem1 = None  # unknown until the answer: a late one may still switch the modem
        lines = await self.busy_retry(C.cpms(mem), timeout)
        self.mem1 = mem
        with contextlib.suppress(C.ParseError):
            return C.parse_cpms_set(lines, [mem])[:1]
        return []
