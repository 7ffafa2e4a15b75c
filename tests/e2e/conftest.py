"""Fixtures for end-to-end tests against a real RapidSMS 2.2 site (see site.py, kannel.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .kannel import KannelStandIn
from .site import RapidSMSSite, SiteFactory, start_site


@pytest.fixture
def rapidsms_site_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteFactory]:
    """start(sendsms_url, *, username=, password=, charset=, delivery_reports=) -> a running site.

    Every site gets its own folder and sqlite file; all are terminated (by PID) at teardown.
    """
    started: list[RapidSMSSite] = []

    def start(sendsms_url: str, **kwargs: Any) -> RapidSMSSite:
        workdir: Path = tmp_path_factory.mktemp("rapidsms")
        site = start_site(workdir, sendsms_url, **kwargs)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


@pytest.fixture
async def kannel_standin() -> AsyncIterator[KannelStandIn]:
    """A real aiohttp server standing in for Kannel's sendsms (records every request)."""
    standin = KannelStandIn()
    await standin.start()
    yield standin
    if standin.hold is not None:
        standin.hold.set()
    await standin.stop()


@pytest.fixture
def rapidsms_site(kannel_standin: KannelStandIn, rapidsms_site_factory: SiteFactory) -> RapidSMSSite:
    """The site with KannelBackend "kannel-bridge" sending to the stand-in, charset UTF-8, DLRs on."""
    return rapidsms_site_factory(kannel_standin.url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_kannel_standin() -> AsyncIterator[KannelStandIn]:
    """kannel_standin shared by a module whose tests run in the module's loop
    (`pytestmark = pytest.mark.asyncio(loop_scope="module")`); call reset() per test."""
    standin = KannelStandIn()
    await standin.start()
    yield standin
    standin.reset()
    await standin.stop()


@pytest.fixture(scope="module")
def shared_rapidsms_site(
    shared_kannel_standin: KannelStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RapidSMSSite]:
    """rapidsms_site shared by a module, sending to shared_kannel_standin; call reset() per test."""
    site = start_site(tmp_path_factory.mktemp("rapidsms"), shared_kannel_standin.url)
    yield site
    site.stop()
