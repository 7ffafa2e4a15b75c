"""Shared fixtures. The simulated modem (modembridge/sim, docs/sim.md):

- ``sim``: an in-process ``SimModem`` (generic profile, seed 1, no send delay) in the test's event loop;
  ``sim.link`` is the pty path to open like a serial port, ``sim.control_url`` its HTTP control API.
- ``sim_factory``: ``async with sim_factory(profile="huawei", send_delay=0.2) as sim:`` for other settings;
  every simulator it made is stopped at teardown.
- ``sim_process``: the simulator as a child process (``SimProcess``: same methods, all async, over HTTP),
  for tests that kill/restart the daemon while the modem keeps running.
- ``host_port``: opens a link as a raw byte pipe (``HostPort``) for byte-level assertions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from modembridge.sim.harness import SimModem
from modembridge.sim.process import SimProcess
from modembridge.sim.testing import HostPort


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimModem]:
    async with SimModem(tmp_path / "gsm0", profile="generic", seed=1) as modem:
        yield modem


@pytest.fixture
async def sim_factory(tmp_path: Path) -> AsyncIterator[Callable[..., SimModem]]:
    made: list[SimModem] = []

    def make(link: str | Path | None = None, **kw: Any) -> SimModem:
        kw.setdefault("seed", 1)
        modem = SimModem(link or tmp_path / f"gsm{len(made)}", **kw)
        made.append(modem)
        return modem

    yield make
    for modem in made:
        await modem.stop()


@pytest.fixture
async def sim_process(tmp_path: Path) -> AsyncIterator[SimProcess]:
    async with SimProcess(tmp_path / "gsm0", seed=1, state=tmp_path / "sim-state.json") as proc:
        yield proc


@pytest.fixture
async def host_port() -> AsyncIterator[Callable[[str | Path], HostPort]]:
    opened: list[HostPort] = []

    def open_(link: str | Path) -> HostPort:
        port = HostPort(link)
        port.open()
        opened.append(port)
        return port

    yield open_
    for port in opened:
        port.close()
