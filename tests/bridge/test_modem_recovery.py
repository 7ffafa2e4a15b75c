"""The bridge over a recovering modem: a transient +CMS ERROR on a send is retried so the message leaves
within 10 s; the exact AT conversation per single-part message (received stored, received direct, sent);
the modem's SIM swap / SIM full / recovery fields in the bridge status (what /status serves)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from modembridge.at import Modem
from modembridge.config import ModemConfig, OutboundConfig
from modembridge.model import ModemState, OutboundPartView, RecoveryStats, SendRequest
from modembridge.sim.harness import SimModem
from modembridge.store import Store

from . import conftest as bridge_conftest
from .conftest import Stack, wait_until

QUIET = {"ping_interval": 3600.0, "health_interval": 3600.0, "sweep_interval": 3600.0}


def quiet_modem_config(**kw: Any) -> ModemConfig:
    """The stack's modem config with idle pings, health polls and periodic sweeps pushed out of the test."""
    return ModemConfig(**{**kw, **QUIET})


@pytest.fixture
def quiet_modems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bridge_conftest, "ModemConfig", quiet_modem_config)


def rx_lines(sim: SimModem) -> list[str]:
    """What the host wrote, split on CR (the last chunk may be a PDU ended by Ctrl-Z, not by CR)."""
    return [line for line in sim.traffic_bytes("rx").decode("latin-1").split("\r") if line]


def commands(sim: SimModem) -> list[str]:
    return [line for line in rx_lines(sim) if line.upper().startswith("AT")]


def part(stack: Stack, message_id: str) -> OutboundPartView:
    view = stack.store.views.outbound(message_id)
    assert view is not None
    [recipient] = view.recipients
    [only] = recipient.parts
    return only


def modem_idle(modem: Modem) -> bool:
    """No operation, poll or event in progress or waiting (the inbound reader takes events one by one and
    each runs under the operation lock)."""
    return not modem._op_lock.locked() and modem.events.empty()


async def ready_and_swept(stack: Stack) -> Modem:
    """READY, and the sweep every READY starts with is over; then the sim's traffic log is cleared."""
    await stack.wait_ready()
    modem = stack.bridge.modems["gsm0"]
    await wait_until(lambda: "AT+CMGL=4" in commands(stack.sim) and modem_idle(modem))
    stack.sim.clear_traffic()
    return modem


# ====================================================================== a transient send error


@pytest.mark.parametrize("cms", [500, 38])  # unknown error; network out of order: both "retry later"
async def test_a_transient_cms_error_is_retried_and_the_message_leaves_within_10s(
    make_stack: Any, cms: int
) -> None:
    stack: Stack = await make_stack(outbound=OutboundConfig())  # the default retry: initial 5 s, full jitter
    await stack.wait_ready()
    stack.sim.fail_sends(1, cms=cms)
    started = time.monotonic()
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000101",), text="try again"))
    [record] = await stack.sim.wait_submitted(1, timeout=10.0)
    assert time.monotonic() - started < 10.0
    assert (record["destination"], record["text"]) == ("+254711000101", "try again")
    assert f"+CMS ERROR: {cms}".encode() in stack.sim.traffic_bytes("tx")  # the first attempt did fail
    await wait_until(lambda: part(stack, accepted.message_id).state == "sent")
    sent = part(stack, accepted.message_id)
    assert sent.attempts == 2 and sent.mr == record["mr"]
    assert len(stack.sim.submitted()) == 1


# ====================================================================== AT commands per message


@pytest.mark.usefixtures("quiet_modems")
async def test_a_stored_inbound_message_takes_two_commands(make_stack: Any) -> None:
    stack: Stack = await make_stack(indication="stored")
    modem = await ready_and_swept(stack)
    await stack.sim.inject_text("+254700000101", "stored one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    await wait_until(lambda: not stack.sim.e.storage.mems["SM"] and modem_idle(modem))
    match = re.search(r'\+CMTI: "SM",(\d+)', stack.sim.traffic_bytes("tx").decode())
    assert match is not None
    index = match.group(1)
    assert commands(stack.sim) == [f"AT+CMGR={index}", f"AT+CMGD={index}"]
    assert stack.router.delivered()[0]["text"] == "stored one"


@pytest.mark.usefixtures("quiet_modems")
async def test_a_direct_inbound_message_takes_one_command(make_stack: Any) -> None:
    stack: Stack = await make_stack(indication="direct")
    modem = await ready_and_swept(stack)
    assert modem.cnmi is not None and modem.cnmi[1] == 2  # +CMT, not +CMTI
    await stack.sim.inject_text("+254700000102", "direct one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    await stack.sim.wait_delivered(timeout=5.0)  # the network got its +CNMA
    await wait_until(lambda: modem_idle(modem))
    assert b"+CMT: " in stack.sim.traffic_bytes("tx")
    assert commands(stack.sim) == ["AT+CNMA"]
    assert not stack.sim.e.storage.mems["SM"]
    assert stack.router.delivered()[0]["text"] == "direct one"


@pytest.mark.usefixtures("quiet_modems")
async def test_a_single_part_send_takes_one_command(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    modem = await ready_and_swept(stack)
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000102",), text="one command"))
    assert accepted.parts == 1
    [record] = await stack.sim.wait_submitted(1)
    await wait_until(lambda: part(stack, accepted.message_id).state == "sent" and modem_idle(modem))
    assert commands(stack.sim) == [f"AT+CMGS={record['length']}"]
    # the only other line is the PDU typed at the '> ' prompt, ended by Ctrl-Z
    assert rx_lines(stack.sim) == [f"AT+CMGS={record['length']}", record["pdu"] + "\x1a"]


# ====================================================================== status


@pytest.mark.usefixtures("quiet_modems")
async def test_status_shows_sim_swap_sim_full_and_recovery(make_stack: Any, tmp_path: Path) -> None:
    # the journal remembers another SIM in gsm0 (as if the daemon ran before with a different card)
    previous = Store(tmp_path / "journal.db")
    previous.facts.set("gsm0", "iccid", "8901260000000077777", 1.0)
    previous.facts.set("gsm0", "imsi", "001017777777777", 1.0)
    await previous.commit()
    previous.close()

    stack: Stack = await make_stack(sim_kw={"profile": "sim800"})  # says +CIEV: "SMSFULL",1 when full
    modem = await ready_and_swept(stack)
    iccid, imsi = stack.sim.e.config.iccid, stack.sim.e.config.imsi
    snap = stack.bridge.status().modems["gsm0"]
    assert snap.state is ModemState.READY
    swap = snap.sim_swap
    assert swap is not None and "8901260000000077777" in swap and iccid in swap and imsi in swap
    assert snap.sim_full is False
    assert snap.recovery == RecoveryStats(0, {"reinit": 0, "reopen": 0, "reset": 0})
    # the journal now holds the SIM in the modem
    assert (stack.store.facts.get("gsm0", "iccid"), stack.store.facts.get("gsm0", "imsi")) == (iccid, imsi)

    stack.sim.set_sim_full(True)
    await stack.sim.inject_text("+254700000103", "no room")
    await stack.sim.wait_traffic(b'+CIEV: "SMSFULL",1')
    await wait_until(lambda: modem.sim_full)
    assert stack.bridge.status().modems["gsm0"].sim_full is True
    stack.sim.set_sim_full(False)  # the network delivers what it held
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
