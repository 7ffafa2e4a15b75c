"""The simulator's in-memory ports (modembridge/sim/memory.py): what a driver sees is what a serial port
shows it (no such file, cannot lock, a hang-up), bytes move a loop turn later each way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from modembridge.sim.harness import SimModem
from modembridge.sim.memory import MemoryPort, MemoryPorts


class Host(asyncio.Protocol):
    def __init__(self) -> None:
        self.got = bytearray()
        self.made = asyncio.Event()
        self.lost: list[Exception | None] = []
        self.changed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.set()

    def data_received(self, data: bytes) -> None:
        self.got += data
        self.changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)
        self.changed.set()

    async def until(self, needle: bytes) -> None:
        async with asyncio.timeout(5):
            while needle not in self.got:
                self.changed.clear()
                await self.changed.wait()


async def test_bytes_move_both_ways_a_loop_turn_later() -> None:
    ports, heard = MemoryPorts(), bytearray()
    end = MemoryPort("m0", heard.extend, ports=ports)
    end.plug()
    host = Host()
    transport = await ports.open("m0", 115200, host)
    transport.write(b"AT\r")
    assert heard == b""  # not yet: a wire, not a call
    await asyncio.sleep(0)
    assert heard == b"AT\r"
    end.write(b"\r\nOK\r\n")
    assert host.got == b""
    await host.until(b"OK")
    assert host.made.is_set()


async def test_missing_busy_and_vanished_ports_fail_as_a_serial_port_does() -> None:
    ports = MemoryPorts()
    with pytest.raises(FileNotFoundError, match="No such file"):
        await ports.open("m1", 115200, Host())
    end = MemoryPort("m1", lambda _b: None, ports=ports)
    end.plug()
    assert ports.exists("m1")
    first = Host()
    await ports.open("m1", 115200, first)
    with pytest.raises(BlockingIOError, match="exclusively lock"):
        await ports.open("m1", 115200, Host())
    end.unplug()  # USB unplug: the host sees a hang-up, the name is gone
    async with asyncio.timeout(5):
        while not first.lost:
            first.changed.clear()
            await first.changed.wait()
    assert isinstance(first.lost[0], OSError) and not ports.exists("m1")


async def test_a_closed_host_frees_the_port_and_output_waits_for_the_next_opener() -> None:
    ports = MemoryPorts()
    end = MemoryPort("m2", lambda _b: None, ports=ports)
    end.plug()
    first = Host()
    transport = await ports.open("m2", 115200, first)
    transport.close()
    await asyncio.sleep(0)
    assert first.lost == [None] and transport.is_closing()
    end.write(b"\r\nRDY\r\n")  # nobody listens: kept, as a pty keeps it in its buffer
    second = Host()
    await ports.open("m2", 115200, second)
    await second.until(b"RDY")


async def test_a_sim_modem_on_memory_answers_and_has_no_pacing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pty"):
        SimModem(tmp_path / "x", transport="memory", baud=9600)
    ports = MemoryPorts()
    async with SimModem(tmp_path / "gsm0", transport="memory", ports=ports, control=None) as sim:
        host = Host()
        transport = await ports.open(str(sim.link), 115200, host)
        transport.write(b"AT+CGMI\r")
        await host.until(b"OK\r\n")
        assert b"SIMULATED" in host.got
        await sim.vanish(0.1)
        assert not ports.exists(str(sim.link))
        await sim.wait_present(5)
        assert ports.exists(str(sim.link)) and host.lost
