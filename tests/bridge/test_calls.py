"""Incoming voice calls over a real pty, on every profile: rejected within 2 s of the first RING (or left
to ring), recorded as missed calls, posted to [router] call_url with retries, never breaking a send."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from typing import Any

import pytest

from modembridge.config import RouterConfig
from modembridge.model import SendRequest

from .conftest import FAST_RETRY, Stack, wait_until

CALLER = "+254711000501"
PROFILES = ["generic", "huawei", "sim800", "quectel"]


def calls(stack: Stack) -> list[dict[str, Any]]:
    return stack.sim.calls()


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_call_is_rejected_within_two_seconds_and_recorded(make_stack: Any, profile: str) -> None:
    stack: Stack = await make_stack(sim_kw={"profile": profile})
    await stack.wait_ready()
    stack.sim.call(CALLER)
    await wait_until(lambda: calls(stack)[0]["hung_up_by"] is not None)
    [call] = calls(stack)
    assert call["hung_up_after"] <= 2.0  # the simulator's clock: first RING to the hang-up
    assert call["hung_up_by"] == ("AT+CHUP" if profile == "huawei" else "ATH")
    assert b"AT+CLIP=1" in stack.sim.traffic_bytes("rx")  # caller id was asked for at init
    await wait_until(lambda: bool(stack.store.calls.recent()))
    [missed] = stack.store.calls.recent()
    assert (missed.number, missed.modem_id, missed.action) == (CALLER, "gsm0", "rejected")
    assert stack.bridge.metrics.totals()["calls"] == 1


async def test_an_ignored_call_rings_on_and_is_recorded_once(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"calls": "ignore"}, sim_kw={"ring_interval": 0.1})
    await stack.wait_ready()
    stack.sim.call(CALLER)
    await wait_until(lambda: calls(stack)[0]["rings"] >= 6 and bool(stack.store.calls.recent()))
    assert calls(stack)[0]["hung_up_by"] is None
    assert [c.action for c in stack.store.calls.recent()] == ["ignored"]  # six RINGs, one call


async def test_missed_calls_go_to_the_call_url_signed_and_retried(make_stack: Any, router: Any) -> None:
    router.call_statuses = [503]  # the first try fails: retried with the router's policy
    config = RouterConfig(url=f"{router.url}/backend/kannel/", call_url=f"{router.url}/calls",
                          hmac_secret="s3cret", retry=FAST_RETRY, timeout=5.0)
    stack: Stack = await make_stack(router=config)
    await stack.wait_ready()
    stack.sim.call(CALLER)
    await router.wait(lambda: [c["status"] for c in router.calls] == [503, 200])
    body = router.calls[-1]["body"]
    assert (body["event"], body["from"], body["modem_id"], body["action"]) == (
        "missed_call", CALLER, "gsm0", "rejected")
    headers = router.calls[-1]["headers"]
    raw = router.calls[-1]["raw"]
    mac = hmac.new(b"s3cret", headers["X-Timestamp"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == "sha256=" + mac
    await wait_until(lambda: stack.store.calls.next_due_at() is None)  # delivered: nothing pending


async def test_a_call_never_breaks_a_send_in_progress(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"send_delay": 0.8})
    await stack.wait_ready()
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000502",), text="in flight"))
    await wait_until(lambda: stack.store.views.outbound(accepted.message_id).recipients[0].parts[0].state
                     == "sending")
    stack.sim.call(CALLER)
    await wait_until(lambda: calls(stack)[0]["hung_up_by"] is not None)
    assert stack.store.views.outbound(accepted.message_id).state == "sent"
    traffic = [(t.direction, t.data) for t in stack.sim.e.traffic]
    sent = next(i for i, (d, data) in enumerate(traffic) if d == "tx" and b"+CMGS:" in data)
    hung_up = next(i for i, (d, data) in enumerate(traffic) if d == "rx" and data.startswith(b"ATH"))
    assert sent < hung_up  # the hang-up waited for the send's answer


def test_call_url_is_optional() -> None:
    assert replace(RouterConfig()).call_url == ""


async def test_a_caller_who_redials_at_once_is_rejected_again(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.sim.call(CALLER)
    await wait_until(lambda: calls(stack)[0]["hung_up_by"] is not None)
    stack.sim.call(CALLER)  # "flash me", twice in a row
    await wait_until(lambda: len(calls(stack)) == 2 and calls(stack)[1]["hung_up_by"] is not None)
    await wait_until(lambda: len(stack.store.calls.recent()) == 2)
