"""``SimModem``: one simulated modem (engine + port + optional control API) in the current event loop.

The port is a pty (``transport="pty"``, the default: a real tty any program can open) or an in-memory
line (``transport="memory"``: opened by the driver through ``sim.ports``, a connector; no pty, no pacing).

    async with SimModem(tmp_path / "gsm0", profile="generic", seed=1) as sim:
        port = sim.link                      # open it like a serial port
        await sim.inject_text("+254700000001", "hello")
        await sim.wait_submitted(1, timeout=5)
        assert sim.submitted()[0]["text"] == "hi"
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from modembridge.sim.engine import ModemEngine, SimConfig
from modembridge.sim.memory import PORTS, MemoryPort, MemoryPorts
from modembridge.sim.network import DEFAULT_FAIL_STATUS
from modembridge.sim.profiles import get_profile
from modembridge.sim.results import cms_result
from modembridge.sim.storage import DEFAULT_CAPACITY, Storage
from modembridge.sim.transport import PtyPort


class SimModem:
    def __init__(self, link: str | Path, *, profile: str = "generic", baud: int | None = None,
                 send_delay: float = 0.0, seed: int | None = None, pin: str | None = None,
                 state: str | Path | None = None, control: str | None = "127.0.0.1:0",
                 capacity: dict[str, int] | None = None, transport: Literal["pty", "memory"] = "pty",
                 ports: MemoryPorts = PORTS, **config: Any) -> None:
        """``config``: other SimConfig fields (report_delay, part_gap, cnma_timeout, noise, boot_delay ...).
        ``control``: "HOST:PORT" for the HTTP control API (port 0 picks one), None for none.
        ``transport``: "pty", or "memory" (the port is ``str(link)`` in ``ports``; no baud pacing)."""
        if transport == "memory" and baud is not None:
            raise ValueError("baud pacing needs the pty transport")
        prof = get_profile(profile)
        self.config = replace(SimConfig(profile=prof, pin=pin, send_delay=send_delay, seed=seed), **config)
        self.link = Path(link)
        self.baud = baud
        self.state_path = Path(state) if state is not None else None
        self.capacity = {**DEFAULT_CAPACITY, **(capacity or {})}
        self.control = control
        self.control_url: str | None = None
        self.transport = transport
        self.ports = ports  # the connector a driver opens an in-memory port with
        self.engine: ModemEngine | None = None
        self.port: PtyPort | MemoryPort | None = None
        self._changed: asyncio.Event | None = None
        self._runner: Any = None
        self._vanish_task: asyncio.Task[None] | None = None
        self.started = time.monotonic()

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> SimModem:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        storage = Storage(self.state_path, capacity=self.capacity, index_base=self.config.profile.index_base)
        self.port = (MemoryPort(self.link, self._on_rx, ports=self.ports) if self.transport == "memory"
                     else PtyPort(self.link, self._on_rx, baud=self.baud))
        self.engine = ModemEngine(self.config, storage, loop, self._on_tx)
        self.engine.listeners.append(lambda _ev: self._poke())
        await self.port.open()
        self.engine.power_on()
        if self.control is not None:
            from modembridge.sim.control import start_control

            host, _, port = self.control.rpartition(":")
            self._runner, self.control_url = await start_control(self, host or "127.0.0.1", int(port or 0))

    async def stop(self) -> None:
        if self._vanish_task is not None:
            self._vanish_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._vanish_task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.engine is not None:
            self.engine.power_off()
        if self.port is not None:
            await self.port.close()

    @property
    def e(self) -> ModemEngine:
        assert self.engine is not None, "SimModem not started"
        return self.engine

    def _on_rx(self, data: bytes) -> None:
        self.e.feed(data)
        self._poke()

    def _on_tx(self, data: bytes) -> None:
        if self.port is not None:
            self.port.write(data)
        self._poke()

    def _poke(self) -> None:
        if self._changed is not None:
            self._changed.set()

    # ------------------------------------------------------------------ network side
    async def inject_text(self, sender: str, text: str | None = None, **kw: Any) -> list[str]:
        """Queue an inbound SMS (concatenated parts when long); returns the PDUs. kw: encoding, flash,
        concat_ref, ref_bits, timestamp (TP-SCTS), smsc, data, gap (between parts), pid, dcs, ports,
        parts (which parts arrive, in which order: see Network.inject_text), delay (before the first)."""
        return self.e.network.inject_text(sender, text, **kw)

    def inject_pdu(self, pdu_hex: str, kind: Literal["deliver", "report"] = "deliver",
                   delay: float = 0.0) -> None:
        self.e.network.inject_pdu(pdu_hex, kind=kind, delay=delay)

    def call(self, number: str) -> None:
        """A voice call from `number` rings (RING, +CLIP) until hung up or the caller gives up."""
        self.e.calls.ring(number)

    def calls(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.e.calls.history]

    def set_balance(self, amount: str) -> None:
        """What the USSD balance services (*100#, *123# 1, *144#) answer."""
        self.e.ussd.balance = amount

    def set_ussd_silent(self, on: bool = True) -> None:
        self.e.ussd.silent = on

    def hold_reports(self, on: bool = True) -> None:
        self.e.network.hold_reports(on)

    def release_reports(self, order: Literal["sent", "reverse", "shuffle"] = "sent") -> int:
        return self.e.network.release_reports(order)

    def submitted(self) -> list[dict[str, Any]]:
        return list(self.e.network.submitted)

    def clear_submitted(self) -> None:
        self.e.network.submitted.clear()

    def storage(self) -> dict[str, Any]:
        return self.e.storage.to_json()

    def traffic(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.e.traffic]

    def traffic_bytes(self, direction: Literal["rx", "tx"] = "tx") -> bytes:
        return b"".join(t.data for t in self.e.traffic if t.direction == direction)

    def clear_traffic(self) -> None:
        self.e.traffic.clear()

    def status(self) -> dict[str, Any]:
        e = self.e
        return {
            "profile": e.profile.name, "link": str(self.link), "open": bool(self.port and self.port.is_open),
            "mode": e.mode, "hung": e.hung, "wedged": e.wedged, "sim_full": e.storage.full,
            "registration": e.registration,
            "rssi": e.rssi, "pin_state": e.pin_state, "echo": e.echo, "cmgf": e.cmgf, "cnmi": list(e.cnmi),
            "cpms": list(e.cpms), "network_queue": len(e.network.queue),
            "awaiting_ack": e.network.awaiting is not None, "pending_send_faults": len(e.send_faults),
            "submitted": len(e.network.submitted), "mr": e.storage.mr,
            "used": {m: len(b) for m, b in e.storage.mems.items()}, "capacity": dict(e.storage.capacity),
        }

    def set_unreachable(self, number: str, status: int | None = DEFAULT_FAIL_STATUS) -> None:
        self.e.network.set_unreachable(number, status)

    def set_registration(self, stat: int) -> None:
        self.e.set_registration(stat)

    def set_signal(self, rssi: int) -> None:
        self.e.rssi = rssi

    # ------------------------------------------------------------------ faults
    def set_hang(self, on: bool = True) -> None:
        self.e.set_hung(on)

    def set_wedged(self, on: bool = True) -> None:
        """Wedged firmware: AT, ATE and AT+CFUN answered, every other command swallowed, until a reset."""
        self.e.wedged = on

    def fail_sends(self, count: int = 1, cms: int | None = None, result: str | None = None) -> None:
        """The next ``count`` sends answer ``result``, else ``+CMS ERROR: cms``, else ``ERROR``."""
        final = result or (cms_result(cms, 0) if cms is not None else "ERROR")
        self.e.send_faults.extend([final] * count)

    def set_sim_full(self, on: bool = True) -> None:
        self.e.storage.full = on
        if not on:
            self.e.network.pump()

    def garbage(self, n: int = 16) -> bytes:
        return self.e.emit_garbage(n)

    def restart(self) -> None:
        self.e.restart()

    async def vanish(self, seconds: float) -> None:
        """USB replug: the port closes and the link goes now; a new one appears at the link after ``seconds``.
        Returns at once; ``wait_present()`` waits for the comeback."""
        if self._vanish_task is not None and not self._vanish_task.done():
            return
        self.e.power_off()
        assert self.port is not None
        await self.port.close()
        self._poke()

        async def back() -> None:
            await asyncio.sleep(seconds)
            assert self.port is not None
            await self.port.open()
            self.e.power_on()
            self._poke()

        self._vanish_task = asyncio.create_task(back())

    # ------------------------------------------------------------------ waits
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until predicate() holds (re-checked on every engine event and byte moved); TimeoutError after."""
        assert self._changed is not None
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

    async def wait_submitted(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.e.network.submitted) >= n, timeout)
        return self.submitted()

    async def wait_stored(self, n: int, mem: str = "SM", timeout: float = 5.0) -> None:
        await self.wait_for(lambda: len(self.e.storage.mems[mem]) >= n, timeout)

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Until the network queue is empty and nothing waits for +CNMA."""
        net = self.e.network
        await self.wait_for(lambda: not net.queue and net.awaiting is None, timeout)

    async def wait_traffic(self, needle: bytes, direction: Literal["rx", "tx"] = "tx",
                           timeout: float = 5.0) -> None:
        await self.wait_for(lambda: needle in self.traffic_bytes(direction), timeout)

    async def wait_present(self, timeout: float = 5.0) -> None:
        """Until the pty is open and the modem booted (after vanish)."""
        await self.wait_for(
            lambda: bool(self.port and self.port.is_open) and self.e.mode not in ("booting", "off"), timeout)
