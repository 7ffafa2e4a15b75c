"""tests/at runs the driver against the simulated modem over in-memory ports (modembridge.sim.memory): the
``sim`` and ``sim_factory`` fixtures here shadow the pty ones of tests/conftest.py, and ``running()``
(helpers.py) opens ports through ``PORTS``. The real transport (a pty through pyserial) has its own suite,
test_pty_transport.py, with ``pty_sim`` / ``pty_sim_factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from modembridge.sim.harness import SimModem


def _factory(tmp_path: Path, made: list[SimModem], transport: str) -> Callable[..., SimModem]:
    def make(link: str | Path | None = None, **kw: Any) -> SimModem:
        kw.setdefault("seed", 1)
        kw.setdefault("transport", transport)
        modem = SimModem(link or tmp_path / f"gsm{len(made)}", **kw)
        made.append(modem)
        return modem

    return make


@pytest.fixture
async def sim_factory(tmp_path: Path) -> AsyncIterator[Callable[..., SimModem]]:
    made: list[SimModem] = []
    yield _factory(tmp_path, made, "memory")
    for modem in made:
        await modem.stop()


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimModem]:
    async with SimModem(tmp_path / "gsm0", profile="generic", seed=1, transport="memory") as modem:
        yield modem


@pytest.fixture
async def pty_sim_factory(tmp_path: Path) -> AsyncIterator[Callable[..., SimModem]]:
    made: list[SimModem] = []
    yield _factory(tmp_path, made, "pty")
    for modem in made:
        await modem.stop()


@pytest.fixture
async def pty_sim(tmp_path: Path) -> AsyncIterator[SimModem]:
    async with SimModem(tmp_path / "gsm0", profile="generic", seed=1) as modem:
        yield modem
