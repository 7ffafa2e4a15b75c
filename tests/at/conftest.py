"""tests/at runs the driver against the simulated modem over in-memory ports (modembridge.sim.memory): the
``sim`` and ``sim_factory`` fixtures here shadow the pty ones of tests/conftest.py, and ``running()``
(helpers.py) opens ports through ``PORTS``. Such tests run on an event loop whose clock skips idle time
(virtual_time.py): the driver's timeouts cost no wall time. The real transport (a pty through pyserial)
has its own suite, test_pty_transport.py, with ``pty_sim`` / ``pty_sim_factory``; it, and any test marked
``real_time`` (a subprocess, a pty), runs on an ordinary loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from modembridge.sim.harness import SimModem

from .virtual_time import VirtualTimeLoop

REAL_IO_FIXTURES = frozenset({"pty_sim", "pty_sim_factory"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_time: real I/O (a pty, a subprocess): no virtual clock")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    real = item.get_closest_marker("real_time") is not None or bool(
        REAL_IO_FIXTURES & set(getattr(item, "fixturenames", ())))
    return {"real": asyncio.new_event_loop} if real else {"virtual": VirtualTimeLoop}


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
