"""``HostPort``: a minimal asyncio host side for a pty link, for byte-level tests against the simulator.

Not a modem driver: it writes exactly what it is told and lets tests wait for exact bytes.
"""

from __future__ import annotations

import asyncio
import os
import re
import termios
import tty
from pathlib import Path

FINAL_RE = re.compile(
    rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*|COMMAND NOT SUPPORT|NO CARRIER)\r\n")


class HostPort:
    def __init__(self, link: str | Path) -> None:
        self.link = Path(link)
        self.fd: int | None = None
        self.buf = bytearray()
        self._wbuf = bytearray()
        self.eof = False
        self._event = asyncio.Event()

    async def __aenter__(self) -> HostPort:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd, termios.TCSANOW)
        self.fd = fd
        self.eof = False
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def close(self) -> None:
        if self.fd is not None:
            asyncio.get_running_loop().remove_reader(self.fd)
            asyncio.get_running_loop().remove_writer(self.fd)
            os.close(self.fd)
            self.fd = None

    def _readable(self) -> None:
        assert self.fd is not None
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the other side of the pty is gone (modem vanished)
            data = b""
        if not data:
            self.eof = True
            asyncio.get_running_loop().remove_reader(self.fd)
        self.buf += data
        self._event.set()

    def write(self, data: bytes) -> None:
        """Write now, or as soon as the pty takes it (never blocks the event loop)."""
        assert self.fd is not None
        was_empty = not self._wbuf
        self._wbuf += data
        if was_empty:
            self._flush()

    def _flush(self) -> None:
        if self.fd is None:
            return
        loop = asyncio.get_running_loop()
        try:
            n = os.write(self.fd, self._wbuf)
        except BlockingIOError:
            n = 0
        del self._wbuf[:n]
        loop.remove_writer(self.fd)
        if self._wbuf:
            loop.add_writer(self.fd, self._flush)

    async def _wait(self, cond: re.Pattern[bytes] | bytes, timeout: float) -> re.Match[bytes] | int:
        async with asyncio.timeout(timeout):
            while True:
                self._event.clear()
                if isinstance(cond, bytes):
                    i = self.buf.find(cond)
                    if i >= 0:
                        return i + len(cond)
                else:
                    m = cond.search(self.buf)
                    if m:
                        return m
                if self.eof:
                    raise EOFError(f"pty closed; got {bytes(self.buf)!r}")
                await self._event.wait()

    async def read_until(self, needle: bytes | re.Pattern[bytes], timeout: float = 5.0) -> bytes:
        """Everything up to and including ``needle`` (bytes or regex); consumed from the buffer."""
        r = await self._wait(needle, timeout)
        end = r if isinstance(r, int) else r.end()
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    async def command(self, line: str | bytes, timeout: float = 5.0) -> bytes:
        """Write ``line`` + CR and return all bytes up to and including the final result."""
        data = line.encode() if isinstance(line, str) else line
        self.write(data + b"\r")
        return await self.read_until(FINAL_RE, timeout)

    async def quiet(self, seconds: float) -> bytes:
        """Whatever arrives within ``seconds`` (for asserting that nothing does); consumed."""
        try:
            async with asyncio.timeout(seconds):
                while not self.eof:
                    self._event.clear()
                    await self._event.wait()
        except TimeoutError:
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out
