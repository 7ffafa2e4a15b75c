"""Fixtures for the web side."""

from __future__ import annotations

import pytest
from httpfakes import Client, ClientFactory, FakeGateway, make_config

from modembridge.http import create_app
from modembridge.observe import Metrics


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, gateway: FakeGateway, metrics: Metrics
) -> Client:
    return await aiohttp_client(create_app(make_config(), gateway, metrics))
