"""Fleet fixtures: ``redis``, a real durable redis-server for the test (see redis_server.py); ``router``,
the recording RapidSMS stand-in of the bridge tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bridge.conftest import router  # noqa: F401  (the fixture, shared with the bridge tests)

from .redis_server import RedisServer


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    async with RedisServer(tmp_path / "redis") as server:
        yield server
