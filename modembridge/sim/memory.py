"""In-memory serial ports for simulated modems: no pty, no file descriptor, no pyserial.

:class:`MemoryPorts` is a namespace of port names (as /dev is) and the driver's connector for them
(``exists(name)``, ``async open(name, baud, protocol)``, see ``modembridge.at.connector``). A
:class:`MemoryPort` is the modem's end, with the interface of the pty port (``open``, ``close``, ``write``,
``is_open``); the host gets a :class:`MemoryTransport`, an ``asyncio.Transport`` that moves bytes one loop
turn later in each direction, as a wire would. Closing the modem's end (a vanish) is ``connection_lost``
for the host. Failures are told as the serial port tells them (OSError: no such file, cannot lock), so a
driver sees the same errors. Baud-rate pacing is the pty's only.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from pathlib import Path

KEPT_WHILE_CLOSED = 4096  # output kept for the next opener while no host is connected (a pty's buffer)


class MemoryPorts:
    """Port name -> the simulated modem's end; opened by a driver as it would open a serial port."""

    def __init__(self) -> None:
        self._ports: dict[str, MemoryPort] = {}

    def exists(self, port: str) -> bool:
        return port in self._ports

    async def open(self, port: str, baud: int, protocol: asyncio.Protocol) -> asyncio.Transport:
        end = self._ports.get(port)
        if end is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", port)
        return end.connect(protocol)

    def _plug(self, name: str, end: MemoryPort) -> None:
        self._ports[name] = end

    def _unplug(self, name: str, end: MemoryPort) -> None:
        if self._ports.get(name) is end:
            del self._ports[name]


PORTS = MemoryPorts()  # the default namespace: one process, one "/dev"


class MemoryPort:
    """The modem's end of an in-memory line. Bytes the host writes go to ``on_data``; ``write()`` sends."""

    def __init__(self, link: str | Path, on_data: Callable[[bytes], None], *, ports: MemoryPorts = PORTS
                 ) -> None:
        self.name = str(link)
        self.on_data = on_data
        self.ports = ports
        self.is_open = False
        self.host: MemoryTransport | None = None
        self._kept = bytearray()

    async def open(self) -> None:
        self.plug()

    def plug(self) -> None:
        """The device node appears."""
        self.is_open = True
        self.ports._plug(self.name, self)

    async def close(self) -> None:
        self.unplug()

    def unplug(self) -> None:
        """The device node goes (USB unplug): a connected host sees its connection lost."""
        if not self.is_open:
            return
        self.is_open = False
        self.ports._unplug(self.name, self)
        host, self.host = self.host, None
        if host is not None:
            host.lost(OSError(errno.EIO, "Input/output error"))
        self._kept.clear()

    def write(self, data: bytes) -> None:
        if not self.is_open or not data:
            return
        if self.host is not None:
            self.host.deliver(data)
        else:  # nobody has the port open: kept (a little) for the next opener, like a pty's buffer
            self._kept += data
            del self._kept[:-KEPT_WHILE_CLOSED]

    def pending_output(self) -> int:
        return len(self._kept)

    def connect(self, protocol: asyncio.Protocol) -> MemoryTransport:
        if self.host is not None:
            raise BlockingIOError(errno.EAGAIN, f"Could not exclusively lock port {self.name}: "
                                                "[Errno 11] Resource temporarily unavailable")
        host = self.host = MemoryTransport(self, protocol)
        if self._kept:
            host.deliver(bytes(self._kept))
            self._kept.clear()
        return host

    def received(self, host: MemoryTransport, data: bytes) -> None:
        if host is self.host and self.is_open:
            self.on_data(data)

    def disconnect(self, host: MemoryTransport) -> None:
        if host is self.host:
            self.host = None


class MemoryTransport(asyncio.Transport):
    """The host's end: an asyncio transport over a :class:`MemoryPort`."""

    def __init__(self, port: MemoryPort, protocol: asyncio.Protocol) -> None:
        super().__init__(extra={"port": port.name})
        self._port = port
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._loop.call_soon(protocol.connection_made, self)

    # --- asyncio.Transport
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._closing and data:
            self._loop.call_soon(self._port.received, self, bytes(data))

    def close(self) -> None:
        if self._closing:
            return
        self._port.disconnect(self)
        self.lost(None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self._closing

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = protocol

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return False

    # --- the modem's side
    def deliver(self, data: bytes) -> None:
        self._loop.call_soon(self._data, data)

    def _data(self, data: bytes) -> None:
        if not self._closing:
            self._protocol.data_received(data)

    def lost(self, exc: Exception | None) -> None:
        if not self._closing:
            self._closing = True
            self._loop.call_soon(self._protocol.connection_lost, exc)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self._port.name}{' closing' if self._closing else ''}>"

