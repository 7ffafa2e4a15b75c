"""The whole receive and send protocol on every simulated vendor profile, over the real pty:
+CMTI (read, delete), +CMT (ack), the CMGL sweep, AT+CMGS, and the status report for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modembridge.sim.harness import SimModem
from modembridge.sms.pdu import encode_submit

from .collector import collecting
from .helpers import fast_config, running

PROFILES = ["generic", "huawei", "sim800", "quectel"]
SENDER = "+254700000001"


@pytest.mark.parametrize("indication", ["stored", "direct"])
@pytest.mark.parametrize("profile", PROFILES)
async def test_receive_send_and_status_report(sim_factory: Callable[..., SimModem], profile: str,
                                              indication: str) -> None:
    async with sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), indication=indication)) as modem, collecting(modem) as c:
        await c.wait_for(lambda: "modem ready" in c.swept)  # the start-up sweep is not what we test here
        await sim.inject_text(SENDER, f"hello {profile}")
        await c.wait_texts({f"hello {profile}"})
        assert c.how[-1] == indication  # +CMTI then AT+CMGR, or the PDU inside +CMT
        if indication == "direct":
            await sim.wait_for(lambda: sim.e.network.awaiting is None)  # acknowledged with AT+CNMA
        (part,) = encode_submit("+254700000002", "out with report", status_report=True)
        mr = await modem.send(part.hex, part.tpdu_length)
        (rec,) = await sim.wait_submitted(1)
        assert rec["mr"] == mr and rec["text"] == "out with report"
        await c.wait_for(lambda: any(r.mr == mr for r in c.reports))
        mems = sim.e.storage.mems
        await sim.wait_for(lambda: not mems["SM"] and not mems.get("SR"))  # read, then deleted


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_sweep_finds_what_a_lost_indication_stranded(sim_factory: Callable[..., SimModem],
                                                               profile: str) -> None:
    async with sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), sweep_interval=0.5, health_interval=60.0)) as modem, \
            collecting(modem) as c:
        sim.e.cnmi = [0, 0, 0, 0, 0]  # the modem forgot CNMI: no +CMTI any more
        await sim.inject_text(SENDER, "stranded")
        await c.wait_texts({"stranded"})
        assert c.how[-1] == "sweep"
        await sim.wait_for(lambda: not sim.e.storage.mems["SM"])
