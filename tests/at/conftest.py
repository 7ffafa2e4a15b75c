"""tests/at runs the driver against the simulated modem over in-memory ports (modembridge.sim.memory): the
``sim`` and ``sim_factory`` fixtures here shadow the pty ones of tests/conftest.py, and ``running()``
(helpers.py) opens ports through ``PORTS``. The real transport (a pty through pyserial) has its own suite,
test_pty_transport.py, with ``pty_sim`` / ``pty_sim_factory``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from modembridge.sim.harness import SimModem


@contextlib.asynccontextmanager
async def _sims(tmp_path: Path, transport: str) -> AsyncIterator[Callable[..., SimModem]]:
    made: list[SimModem] = []

    def make(link: str | Path | None = None, **kw: Any) -> SimModem:
        kw.setdefault("seed", 1)
        kw.setdefault("transport", transport)
        kw.setdefault("control", None)  # no test here uses the HTTP control API
        modem = SimModem(link or tmp_path / f"gsm{len(made)}", **kw)
        made.append(modem)
        return modem

    try:
        yield make
    finally:
        for modem in made:
            await modem.stop()


@pytest.fixture
async def sim_factory(tmp_path: Path) -> AsyncIterator[Callable[..., SimModem]]:
    async with _sims(tmp_path, "memory") as make:
        yield make


@pytest.fixture
async def pty_sim_factory(tmp_path: Path) -> AsyncIterator[Callable[..., SimModem]]:
    async with _sims(tmp_path, "pty") as make:
        yield make


@pytest.fixture
async def sim(sim_factory: Callable[..., SimModem]) -> AsyncIterator[SimModem]:
    async with sim_factory(profile="generic") as modem:
        yield modem


@pytest.fixture
async def pty_sim(pty_sim_factory: Callable[..., SimModem]) -> AsyncIterator[SimModem]:
    async with pty_sim_factory(profile="generic") as modem:
        yield modem
