"""The pseudo-terminal a simulated modem lives on: raw slave published at a stable symlink, optional pacing.

Bytes the host writes to the slave are read from the master and handed to ``on_data``; ``write()`` queues
bytes for the host. With ``baud`` set, both directions move at baud/10 bytes per second (8N1), as on
a real serial line: output is trickled out, and input is read no faster, so the writer's pty buffer fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import termios
import tty
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

TICK = 0.005  # pacing granularity, seconds
MAX_BACKLOG = 256 * 1024  # output bytes kept while the host does not read


class PtyPort:
    def __init__(self, link: Path, on_data: Callable[[bytes], None], *, baud: int | None = None) -> None:
        self.link = Path(link)
        self.on_data = on_data
        self.baud = baud
        self.rate = baud / 10 if baud else None  # bytes per second
        self.master: int | None = None
        self.slave: int | None = None
        self.slave_name: str | None = None
        self._out = bytearray()
        self._out_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.is_open = False

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~(termios.ONLCR | termios.OPOST)
        attrs[0] &= ~(termios.ICRNL | termios.IXON | termios.IXOFF)
        attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.set_blocking(master, False)
        self.master, self.slave = master, slave
        self.slave_name = os.ttyname(slave)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(self.slave_name, tmp)
        os.replace(tmp, self.link)
        self._out.clear()
        self.is_open = True
        self._tasks = [asyncio.create_task(self._reader(), name=f"sim-read {self.link}"),
                       asyncio.create_task(self._writer(), name=f"sim-write {self.link}")]

    async def close(self) -> None:
        """Close the pty (the host sees EIO / hang-up) and remove the link."""
        if not self.is_open:
            return
        self.is_open = False
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        for fd in (self.master, self.slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self.slave = None
        with contextlib.suppress(FileNotFoundError):
            if self.link.is_symlink() and os.readlink(self.link) == self.slave_name:
                self.link.unlink()
        self._out.clear()

    # ------------------------------------------------------------------ output
    def write(self, data: bytes) -> None:
        if self.is_open and data:
            self._out += data
            if len(self._out) > MAX_BACKLOG:  # nobody reads: overrun, the oldest bytes are lost
                del self._out[: len(self._out) - MAX_BACKLOG]
            self._out_ready.set()

    def pending_output(self) -> int:
        return len(self._out)

    async def _wait_fd(self, fd: int, *, write: bool) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        (loop.add_writer if write else loop.add_reader)(fd, ready)
        try:
            await fut
        finally:
            (loop.remove_writer if write else loop.remove_reader)(fd)

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            if not self._out:
                self._out_ready.clear()
                await self._out_ready.wait()
                next_at = max(next_at, loop.time())
            assert self.master is not None
            chunk = len(self._out)
            if self.rate:
                chunk = min(chunk, max(1, int(self.rate * TICK)))
            try:
                n = os.write(self.master, bytes(self._out[:chunk]))
            except BlockingIOError:
                await self._wait_fd(self.master, write=True)
                continue
            except OSError as exc:  # the pty went away under us
                log.debug("pty write failed: %s", exc)
                self._out.clear()
                continue
            del self._out[:n]
            if self.rate:
                next_at += n / self.rate
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)

    # ------------------------------------------------------------------ input
    async def _reader(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            assert self.master is not None
            await self._wait_fd(self.master, write=False)
            limit = 4096
            if self.rate:
                limit = max(1, int(self.rate * TICK))
            try:
                data = os.read(self.master, limit)
            except BlockingIOError:
                continue
            except OSError as exc:
                # EIO when no process holds the slave; we keep our own slave fd open, so this is rare.
                log.debug("pty read failed: %s", exc)
                await asyncio.sleep(0.05)
                continue
            if not data:
                await asyncio.sleep(0.05)
                continue
            self.on_data(data)
            if self.rate:
                next_at = max(next_at, loop.time()) + len(data) / self.rate
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
