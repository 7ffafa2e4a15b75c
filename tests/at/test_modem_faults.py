"""Every fault of the simulated modem, on every profile, ends in a working modem with nothing lost.

Each test receives a message, starts the fault, injects messages while it lasts, ends it, and then
requires every message to have been read (and freed) and a send to go through. The consumer is the
bridge's protocol in miniature (tests/at/collector.py); the modem runs with the shipped recovery
logic and short timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from modembridge.at import Modem, ModemState, SendErrorClass, SendFailed
from modembridge.at.recovery import Rung
from modembridge.sim.harness import SimModem
from modembridge.sms.pdu import encode_submit

from .collector import Collector, collecting
from .helpers import fast_config, running

PROFILES = ["generic", "huawei", "sim800", "quectel"]
INDICATIONS = ["stored", "direct"]  # +CMTI then AT+CMGR, or the PDU inside +CMT acknowledged with +CNMA
SENDER = "+254700000001"
FAST_FAULTS = {"command_timeout": 0.5, "send_timeout": 2.0, "ping_interval": 0.5, "health_interval": 1.0,
               "sweep_interval": 3.0}


def submit(text: str) -> tuple[str, int]:
    (part,) = encode_submit("+254700000002", text)
    return part.hex, part.tpdu_length


async def until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.02)


async def inject(sim: SimModem, texts: list[str]) -> None:
    for t in texts:
        await sim.inject_text(SENDER, t)


# Each fault: start it and inject `during` while it lasts, end it; then a check of how it was handled.
Fault = Callable[[SimModem, Modem, Collector, list[str]], Awaitable[None]]


async def hang(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    mark = len(c.states)
    sim.set_hang(True)
    ev = await c.wait_state(ModemState.RECOVERING, after=mark)  # noticed by the idle ping alone
    assert "does not answer" in ev.reason
    await inject(sim, during)  # lands on the SIM; the URCs are lost with the hung modem
    sim.set_hang(False)


async def send_error(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    sim.fail_sends(2, cms=500)
    for _ in range(2):
        with pytest.raises(SendFailed) as exc:
            await modem.send(*submit("refused"))
        assert exc.value.code == 500 and exc.value.error_class is SendErrorClass.RETRY_LATER
    await inject(sim, during)
    assert modem.state == ModemState.READY


async def sim_full(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    c.go.clear()  # nobody empties the SIM for now: it fills up (capacity 3) and the network holds the rest
    await inject(sim, during)
    await until(lambda: modem.sim_full)  # by the vendor's URC, or the health poll's AT+CPMS?
    assert modem.snapshot().sim_full is True
    c.go.set()
    await until(lambda: "SIM storage full" in c.sweeps)


async def garbage(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    for text in during:
        sim.garbage(48)
        await sim.inject_text(SENDER, text)
        sim.garbage(48)


async def restart(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    mark = len(c.states)
    sim.restart()
    await inject(sim, during)  # held by the network while the modem boots
    await c.wait_state(ModemState.INITIALIZING, after=mark)


async def vanish(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    mark = len(c.states)
    await sim.vanish(1.0)
    await c.wait_state(ModemState.RECOVERING, after=mark)
    await inject(sim, during)  # stored on the SIM while no host listens
    await sim.wait_present(5)


async def wedge(sim: SimModem, modem: Modem, c: Collector, during: list[str]) -> None:
    sim.set_wedged(True)  # AT answers, nothing else does: only a reset helps
    await inject(sim, during)
    await until(lambda: modem.snapshot().recovery.taken[Rung.RESET.value] >= 1, 30)
    await until(lambda: not sim.e.wedged)  # the reset command got through and cleared it


FAULTS: dict[str, Fault] = {"hang": hang, "send-error": send_error, "sim-full": sim_full, "garbage": garbage,
                            "restart": restart, "vanish": vanish, "wedge": wedge}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("indication", INDICATIONS)
async def test_fault_ends_in_a_working_modem_with_nothing_lost(sim_factory: Callable[..., SimModem],
                                                               indication: str, profile: str,
                                                               fault: str) -> None:
    kw: dict[str, Any] = {"capacity": {"SM": 3, "ME": 3}} if fault == "sim-full" else {}
    async with sim_factory(profile=profile, **kw) as sim, \
            running(fast_config(str(sim.link), indication=indication, **FAST_FAULTS)) as modem, \
            collecting(modem) as c:
        await inject(sim, ["before"])
        await c.wait_texts({"before"})
        during = [f"{fault} {i}" for i in range(5 if fault == "sim-full" else 3)]
        await FAULTS[fault](sim, modem, c, during)
        await c.wait_texts({"before", *during}, timeout=30)
        await until(lambda: modem.state == ModemState.READY, 15)
        await modem.send(*submit(f"after {fault}"))
        assert any(r["text"] == f"after {fault}" for r in sim.submitted())
        await until(lambda: not sim.storage()["memories"]["SM"], 10)  # everything read was freed
        taken = modem.snapshot().recovery.taken
        if fault == "hang":
            assert taken["reinit"] >= 1
        if fault == "wedge":  # AT answers, so re-init and reopen cannot help: straight to the reset
            assert taken["reset"] >= 1 and taken["reinit"] == 0
