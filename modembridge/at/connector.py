"""How a channel reaches its port: a connector opens it as an asyncio transport and tells whether its device
node exists. :data:`SERIAL` (pyserial-asyncio-fast) is the default; tests use the simulator's in-memory
ports (``modembridge.sim.memory``), which need no pty."""

from __future__ import annotations

import asyncio
import os
import termios
from typing import Protocol


class Connector(Protocol):
    def exists(self, port: str) -> bool:
        """Whether the port's device node is there (a missing one is looked for again, cheaply)."""
        ...

    async def open(self, port: str, baud: int, protocol: asyncio.Protocol) -> asyncio.Transport:
        """Open ``port`` exclusively, its bytes going to ``protocol``; OSError when it cannot be opened (the
        message says why: no such file, busy / cannot lock, permission denied ...)."""
        ...


class SerialConnector:
    """A real serial port (or pty) through pyserial-asyncio-fast, locked against a second opener."""

    def exists(self, port: str) -> bool:
        return os.path.exists(port)

    async def open(self, port: str, baud: int, protocol: asyncio.Protocol) -> asyncio.Transport:
        import serial_asyncio_fast  # imported lazily: pure users of the package do not need pyserial loaded

        loop = asyncio.get_running_loop()
        try:
            transport, _ = await serial_asyncio_fast.create_serial_connection(
                loop, lambda: protocol, port, baudrate=baud, exclusive=True, rtscts=False)
        except termios.error as e:  # the device went away between open() and its configuration (replug race)
            raise OSError(str(e)) from e
        return transport  # serial.SerialException is an OSError: it passes through as it is


SERIAL = SerialConnector()


def describe_open_error(port: str, exc: BaseException) -> str:
    """A clear one-line reason for a failed open: missing, busy, permission, or other."""
    text = str(exc)
    low = text.lower()
    if "no such file" in low or "errno 2]" in low:
        return f"{port}: no such port (unplugged? wrong name? see `ls -l /dev/serial/by-id/`)"
    if "exclusively lock" in low or "resource temporarily unavailable" in low or "busy" in low:
        return (f"{port}: busy: another process has it open (ModemManager? a second modembridge? "
                "check `fuser -v " + port + "`)")
    if "permission denied" in low or "errno 13]" in low:
        return f"{port}: permission denied (add the user to the 'dialout' group)"
    return f"{port}: cannot open: {text}"
