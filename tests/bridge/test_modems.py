"""Many modems on one bridge: inbound merged, outbound pinned or spread, a vanished modem hands work over."""

from __future__ import annotations

from typing import Any

import pytest

from modembridge.at import ModemState
from modembridge.model import SendRequest, UnknownModemError

from .conftest import Stack, journalled, wait_until


async def test_inbound_from_every_modem_is_merged(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2)
    await wait_until(lambda: all(m.state is ModemState.READY for m in stack.bridge.modems.values()))
    await stack.sims["gsm0"].inject_text("+254722000001", "via zero")
    await stack.sims["gsm1"].inject_text("+254722000002", "via one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    by_text = {r["text"]: r["message_id"] for r in stack.router.delivered()}
    views = {t: await journalled(stack.store, mid) for t, mid in by_text.items()}
    assert views["via zero"].modem == "gsm0"
    assert views["via one"].modem == "gsm1"


async def test_pinned_sends_use_their_modem_and_unknown_modems_are_refused(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2)
    await wait_until(lambda: all(m.state is ModemState.READY for m in stack.bridge.modems.values()))
    for i in range(3):
        await stack.bridge.submit(SendRequest(recipients=(f"+25472200010{i}",), text="pinned", modem="gsm1"))
    await stack.sims["gsm1"].wait_submitted(3)
    assert stack.sims["gsm0"].submitted() == []
    with pytest.raises(UnknownModemError):
        await stack.bridge.submit(SendRequest(recipients=("+254722000109",), text="x", modem="gsm9"))


async def test_unpinned_sends_are_spread_over_the_modems(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2, sim_kw={"send_delay": 0.1})
    await wait_until(lambda: all(m.state is ModemState.READY for m in stack.bridge.modems.values()))
    for i in range(6):
        await stack.bridge.submit(SendRequest(recipients=(f"+25472200020{i}",), text=f"spread {i}"))
    await wait_until(lambda: sum(len(s.submitted()) for s in stack.sims.values()) == 6)
    assert all(len(s.submitted()) >= 2 for s in stack.sims.values())  # each modem took a share


async def test_a_vanished_modem_hands_its_work_to_the_other_and_recovers_on_replug(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2)
    modems = stack.bridge.modems
    await wait_until(lambda: all(m.state is ModemState.READY for m in modems.values()))
    await stack.sims["gsm0"].vanish(1.0)  # USB unplugged; the same link comes back a second later
    await wait_until(lambda: modems["gsm0"].state is not ModemState.READY)
    accepted = [
        await stack.bridge.submit(SendRequest(recipients=(f"+25472200030{i}",), text="while gone"))
        for i in range(3)
    ]
    await stack.sims["gsm1"].wait_submitted(3)
    await wait_until(lambda: modems["gsm0"].state is ModemState.READY, timeout=20)
    back = await stack.bridge.submit(SendRequest(recipients=("+254722000399",), text="back", modem="gsm0"))
    [record] = await stack.sims["gsm0"].wait_submitted(1, timeout=10)
    assert record["text"] == "back"
    for a in (*accepted, back):
        await wait_until(lambda a=a: stack.store.views.outbound(a.message_id).state == "sent")
    status = stack.bridge.status()
    assert set(status.modems) == {"gsm0", "gsm1"}
