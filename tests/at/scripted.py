"""A scripted modem: answers each command line from a table or a function, on an in-memory port (open
``.path`` through ``PORTS``) or, with ``transport="pty"``, on a real pty (open ``.path`` like a serial port).

For odd-modem behaviours the simulator does not model (always echoing, layouts without alpha fields,
refusing CNMI=?, silence, a late answer).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tty
from collections.abc import Callable
from typing import Literal

from modembridge.sim.memory import MemoryPort

Reply = str | bytes | None  # None: stay silent
_names = itertools.count()


class ScriptedModem:
    def __init__(self, answer: Callable[[str], Reply], *, echo: bool = False,
                 transport: Literal["memory", "pty"] = "memory") -> None:
        self.answer = answer
        self.echo = echo
        self.received = bytearray()
        self.lines: list[str] = []
        self._line = bytearray()
        self._changed = asyncio.Event()
        self.closed = False
        self._memory: MemoryPort | None = None
        if transport == "memory":
            self._memory = MemoryPort(f"scripted-{next(_names)}", self._on_data)
            self._memory.plug()
            self.path = self._memory.name
            return
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        self._on_data(data)

    def _on_data(self, data: bytes) -> None:
        self.received += data
        for b in data:
            if self.echo:
                self.write(bytes([b]))
            if b in (0x0D, 0x1A):
                line = self._line.decode("latin-1")
                self._line.clear()
                self.lines.append(line)
                reply = self.answer(line.lstrip("\x1b"))
                if reply:
                    self.write(reply.encode() if isinstance(reply, str) else reply)
            elif b != 0x0A:
                self._line.append(b)
        self._changed.set()

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if self._memory is not None:
            self._memory.write(data)
        else:
            os.write(self.master, data)

    def urc(self, line: str) -> None:
        self.write(f"\r\n{line}\r\n".encode())

    async def wait_line(self, pred: Callable[[str], bool], timeout: float = 5.0) -> str:
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                for line in self.lines:
                    if pred(line):
                        return line
                await self._changed.wait()

    def close(self) -> None:
        """The modem vanishes: the other end sees a hang-up."""
        if self.closed:
            return
        self.closed = True
        if self._memory is not None:
            self._memory.unplug()
            return
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)

    def shutdown(self) -> None:
        self.close()
        if self._memory is None:
            os.close(self.slave)


def ok(*lines: str) -> str:
    return "".join(f"\r\n{x}\r\n" for x in lines) + "\r\nOK\r\n"


def table_answer(table: dict[str, Reply], default: Reply = "\r\nERROR\r\n") -> Callable[[str], Reply]:
    def answer(line: str) -> Reply:
        key = line.strip().upper()
        return table.get(key, default)

    return answer
