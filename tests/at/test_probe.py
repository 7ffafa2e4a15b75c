"""`modembridge probe` against the simulator (in-process over in-memory ports; the command line over a pty)
and against broken ports."""

from __future__ import annotations

import asyncio
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from modembridge.at.channel import AtChannel
from modembridge.at.parser import AtParser
from modembridge.at.probe import probe_port, render, suggest_config
from modembridge.sim.harness import SimModem
from modembridge.sim.memory import PORTS

from .scripted import ScriptedModem

SimFactory = Callable[..., SimModem]


async def run_cli(*args: str, timeout: float = 30) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "modembridge", "probe", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_probe_report_per_profile(sim_factory: SimFactory, profile: str) -> None:
    async with sim_factory(profile=profile) as sim:
        rep = await probe_port(str(sim.link), timeout=2, connector=PORTS)
    assert rep.usable, rep.problems
    assert rep.info.profile == profile
    assert rep.info.manufacturer == sim.e.profile.manufacturer and rep.info.imei == "356789012345678"
    assert rep.sim == "READY" and rep.info.imsi == "001010123456789"
    assert rep.info.iccid == "8901260000000000001"
    assert rep.pdu_mode is True and rep.cnmi == "2,1,2,1,0"
    assert rep.storages and "SM" in rep.storages[0] and rep.fill["SM"][1] > 0
    assert rep.smsc == "+15550000000" and rep.signal_dbm == -73
    assert rep.registration == "home" and rep.operator == "SIMNET"
    cfg = tomllib.loads(suggest_config(rep))["modem"][0]
    assert cfg["port"] == str(sim.link) and cfg["profile"] == profile and cfg["storage"] == "SM"
    text = render(rep)
    assert "verdict: USABLE" in text and "[[modem]]" in text


async def test_probe_cli_against_the_simulator(pty_sim: SimModem) -> None:
    code, out = await run_cli(str(pty_sim.link), "--timeout", "2")
    assert code == 0, out
    assert "verdict: USABLE" in out and "SIMULATED" in out and 'profile = "generic"' in out


async def test_probe_cli_json(pty_sim: SimModem) -> None:
    import json

    code, out = await run_cli(str(pty_sim.link), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["usable"] is True and data["model"] == "SIM-GSM-1"


async def test_probe_pin_locked_sim(pty_sim_factory: SimFactory) -> None:
    async with pty_sim_factory(pin="1234") as sim:
        code, out = await run_cli(str(sim.link))
        assert code == 1 and "verdict: PROBLEM" in out and "--pin" in out
        assert sim.e.pin_tries == 3  # nothing was guessed
        assert "PIN attempts left 3" in out
        code, out = await run_cli(str(sim.link), "--pin", "1234")
        assert code == 0 and "verdict: USABLE" in out, out
        assert "pin = " in out and "1234" not in out.split("[[modem]]")[1]  # no PIN echoed into the config


async def test_probe_unregistered_modem_is_a_problem(sim: SimModem) -> None:
    sim.set_registration(3)
    rep = await probe_port(str(sim.link), timeout=2, connector=PORTS)
    assert not rep.usable and any("not registered" in p for p in rep.problems)
    assert rep.registration == "denied"


@pytest.mark.real_time
async def test_probe_missing_port(tmp_path: Path) -> None:
    code, out = await run_cli(str(tmp_path / "nothing"))
    assert code == 2 and "no such port" in out


async def test_probe_busy_port(pty_sim: SimModem) -> None:
    holder = await AtChannel.open(str(pty_sim.link), 115200, AtParser(), lambda _u: None)
    try:
        code, out = await run_cli(str(pty_sim.link))
        assert code == 2 and "busy" in out
    finally:
        await holder.close()


@pytest.mark.real_time
async def test_probe_no_answer() -> None:
    silent = ScriptedModem(lambda _line: None, transport="pty")
    try:
        code, out = await run_cli(silent.path, "--timeout", "0.3")
        assert code == 3 and "no answer" in out and "baud" in out
    finally:
        silent.shutdown()


def test_uucp_lock_detection(tmp_path: Path) -> None:
    import os

    from modembridge.at.probe import uucp_lock_owner

    port = tmp_path / "ttyUSB7"
    port.touch()
    dirs = (str(tmp_path),)
    assert uucp_lock_owner(str(port), dirs) is None
    (tmp_path / "LCK..ttyUSB7").write_text(f"{os.getpid():>10}\n")  # ASCII form, as minicom writes it
    assert uucp_lock_owner(str(port), dirs) == (str(tmp_path / "LCK..ttyUSB7"), os.getpid())
    (tmp_path / "LCK..ttyUSB7").write_text("999999999\n")  # a stale lock of a dead process
    assert uucp_lock_owner(str(port), dirs) is None


async def test_probe_does_not_spend_the_last_pin_attempt(pty_sim_factory: SimFactory) -> None:
    async with pty_sim_factory(pin="1234") as sim:
        sim.e.pin_tries = 1
        code, out = await run_cli(str(sim.link), "--pin", "1234")
        assert code == 1 and "1 PIN attempt(s) left" in out
        assert sim.e.pin_tries == 1 and sim.e.pin_state == "SIM PIN"
