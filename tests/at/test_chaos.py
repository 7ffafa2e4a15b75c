"""Seeded chaos: random faults (garbage, restart, hang, vanish, failing sends) while messages flow both ways.

The driver must end READY, every inbound message must be readable from the SIM, and every send must
either return a reference or raise one of the documented errors.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from modembridge.at import (
    AtError,
    AtTimeout,
    Modem,
    ModemState,
    ModemUnavailable,
    PromptTimeout,
    SendFailed,
    StoredPdu,
)
from modembridge.sim.harness import SimModem
from modembridge.sms.pdu import Deliver, decode_pdu, encode_submit

from .helpers import fast_config, running, wait_state


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_chaos(sim_factory: Callable[..., SimModem], seed: int) -> None:
    rng = random.Random(seed)
    profile = ["generic", "huawei", "sim800", "quectel"][seed % 4]
    async with sim_factory(profile=profile, capacity={"SM": 100}) as sim:
        cfg = fast_config(str(sim.link), command_timeout=0.5, send_timeout=1.0, health_interval=0.3,
                          sweep_interval=1.0)
        async with running(cfg) as modem:
            (part,) = encode_submit("+254700000009", "chaos")
            sent = failed = 0
            texts: set[str] = set()
            for i in range(12):
                fault = rng.choice(["garbage", "restart", "hang", "vanish", "cms", "none", "none"])
                if fault == "garbage":
                    sim.garbage(rng.randrange(1, 80))
                elif fault == "restart":
                    sim.restart()
                elif fault == "hang":
                    sim.set_hang(True)
                    asyncio.get_running_loop().call_later(0.4, sim.set_hang, False)
                elif fault == "vanish":
                    await sim.vanish(0.3)
                elif fault == "cms":
                    sim.fail_sends(1, cms=rng.choice([38, 21, 515]))
                if fault != "vanish":
                    text = f"in {seed}/{i}"
                    texts.add(text)
                    await sim.inject_text("+254700000001", text)
                try:
                    await modem.send(part.hex, part.tpdu_length)
                    sent += 1
                except (SendFailed, AtTimeout, PromptTimeout, ModemUnavailable):
                    failed += 1
            sim.set_hang(False)
            await sim.wait_present(5)
            await wait_state(modem, ModemState.READY, timeout=15)
            await sim.wait_delivered(10)
            stored = await _list_when_ready(modem)
            found = {m.text for m in (decode_pdu(p.pdu) for p in stored) if isinstance(m, Deliver)}
            assert texts <= found
            assert sent + failed == 12 and sent >= 1
            assert len(sim.submitted()) >= sent


async def _list_when_ready(modem: Modem) -> list[StoredPdu]:
    for _ in range(5):
        try:
            return await modem.list_stored()
        except AtError:
            await wait_state(modem, ModemState.READY, timeout=10)
    raise AssertionError("could not list the storage")
