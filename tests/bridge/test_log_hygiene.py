"""Recipient numbers are personal data: the log shows them masked unless told otherwise (issue 12, item 9)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from modembridge.model import SendRequest
from modembridge.observe import log_numbers, number

from .conftest import Stack, wait_until


@pytest.fixture
def full_numbers() -> Iterator[None]:
    log_numbers("full")
    yield
    log_numbers("masked")


def test_masked_keeps_the_plus_and_the_last_three_digits() -> None:
    assert number("+254711000123") == "+*********123"
    assert number("0711000123") == "*******123"
    assert number("123") == "123"


async def test_the_log_masks_recipients_by_default(make_stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    await stack.wait_ready()
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000123",), text="private",
                                                     status_report=True))
    await wait_until(lambda: any(p.dlr.state for r in stack.store.views.outbound(  # type: ignore[union-attr]
        accepted.message_id).recipients for p in r.parts))
    assert "+254711000123" not in caplog.text
    assert "to=+*********123" in caplog.text  # the sent line and the delivery report line


async def test_full_numbers_when_configured(make_stack: Any, caplog: pytest.LogCaptureFixture,
                                            full_numbers: None) -> None:
    caplog.set_level(logging.INFO)
    stack: Stack = await make_stack()
    await stack.wait_ready()
    await stack.bridge.submit(SendRequest(recipients=("+254711000124",), text="private"))
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: "to=+254711000124" in caplog.text)
