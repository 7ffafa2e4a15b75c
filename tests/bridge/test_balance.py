"""Prepaid balance by USSD, over a real pty: read every balance_interval, parsed, low flagged, failures
reported and never fatal, the last answer kept across a restart."""

from __future__ import annotations

from typing import Any

import pytest

from modembridge.bridge.balance import BalanceWatch, parse_amount
from modembridge.model import SendRequest

from .conftest import Stack, wait_until

CHECKS = {"balance_ussd": "*100#", "balance_interval": 0.2}


def balance(stack: Stack) -> Any:
    return stack.bridge.status().balance["gsm0"]


async def test_the_balance_is_read_parsed_and_flagged_low(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={**CHECKS, "balance_low": 1.0})
    await stack.wait_ready()
    await wait_until(lambda: balance(stack).amount == 12.5)
    b = balance(stack)
    assert not b.low and b.error is None and b.at is not None and "12.50 KSh" in (b.answer or "")
    stack.sim.set_balance("0,40")  # a decimal comma
    await wait_until(lambda: balance(stack).amount == 0.4)
    assert balance(stack).low
    stack.bridge.metrics.bind_status(stack.bridge.status)
    text = stack.bridge.metrics.render().decode()
    assert 'modembridge_modem_balance{modem="gsm0"} 0.4' in text
    assert 'modembridge_modem_balance_low{modem="gsm0"} 1.0' in text


async def test_a_check_that_fails_or_does_not_parse_is_reported_never_fatal(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={**CHECKS, "ussd_timeout": 0.2,
                                              "balance_pattern": r"balance is (?P<amount>\d+(?:[.,]\d+)?)"})
    await stack.wait_ready()
    await wait_until(lambda: balance(stack).amount == 12.5)
    stack.sim.set_ussd_silent()
    await wait_until(lambda: "timeout" in (balance(stack).error or ""))
    assert balance(stack).amount == 12.5  # the last good amount stays, with the error beside it
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000401",), text="still sending"))
    await wait_until(lambda: stack.store.views.outbound(accepted.message_id).state == "sent")
    stack.sim.set_ussd_silent(False)
    stack.sim.set_balance("unknown")
    await wait_until(lambda: "no amount" in (balance(stack).error or ""))
    assert balance(stack).answer == "Your balance is unknown KSh. Valid until 31/12/2026."


async def test_the_last_answer_survives_a_restart(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw=CHECKS)
    await stack.wait_ready()
    await wait_until(lambda: balance(stack).amount == 12.5)
    watch = stack.bridge.balances["gsm0"]
    again = BalanceWatch(watch.config, watch.modem, stack.store, stack.bridge.ussd,
                         stack.bridge.ussd_cancel)  # what a restart builds
    assert (again.balance.amount, again.balance.answer) == (12.5, balance(stack).answer)


@pytest.mark.parametrize(("pattern", "text", "amount"), [
    (r"(?P<amount>\d+(?:[.,]\d+)?)", "Your balance is 12.50 KSh", 12.5),
    (r"(?P<amount>\d+(?:[.,]\d+)?)", "Solde: 1 500,75 FCFA", 1.0),  # the default takes the first number
    (r"Solde:\s*(?P<amount>[\d ]+,\d+)", "Solde: 1500,75 FCFA", 1500.75),
    (r"Credit (?P<amount>\d+)", "Your balance is 12.50 KSh", None),
])
def test_parse_amount(pattern: str, text: str, amount: float | None) -> None:
    assert parse_amount(pattern, text) == amount


async def test_a_balance_code_that_answers_a_menu_leaves_no_session_open(make_stack: Any,
                                                                          aiohttp_client: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"balance_ussd": "*123#", "balance_interval": 60.0})
    await stack.wait_ready()
    await wait_until(lambda: balance(stack).at is not None)  # the menu's "1. Balance": no amount there
    await wait_until(lambda: b"AT+CUSD=2" in stack.sim.traffic_bytes("rx"))
    reply = await stack.bridge.ussd("gsm0", "*100#", None)  # not 409: the menu was ended properly
    assert reply.status == "done"
