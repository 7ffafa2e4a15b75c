"""Independent drivers against the simulator: python-gsmmodem-new (threads) and the gammu CLI.

A disagreement means the simulator is wrong until shown otherwise.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from modembridge.sim.harness import SimModem

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------- python-gsmmodem-new
def _gsmmodem_session(link: str, received: list[Any], got_sms: threading.Event, inject: Any) -> int:
    from gsmmodem.modem import GsmModem

    def on_sms(sms: Any) -> None:
        received.append(sms)
        got_sms.set()

    modem = GsmModem(link, 115200, smsReceivedCallbackFunc=on_sms)
    modem.connect()
    try:
        inject()  # only now: the modem is set up (CNMI) and listening
        if not got_sms.wait(10):
            raise AssertionError("gsmmodem saw no +CMTI")
        sms = modem.sendSms("+254711111111", "reply from gsmmodem")
        return int(sms.reference)
    finally:
        modem.close()


@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_gsmmodem_receives_and_sends(tmp_path: Path, profile: str) -> None:
    async with SimModem(tmp_path / "gsm0", profile=profile, seed=3) as sim:
        await sim.wait_present()
        loop = asyncio.get_running_loop()
        received: list[Any] = []
        got = threading.Event()

        def inject() -> None:
            fut = asyncio.run_coroutine_threadsafe(sim.inject_text("+254700000001", "hello gsmmodem"), loop)
            fut.result(5)

        ref = await asyncio.to_thread(_gsmmodem_session, str(sim.link), received, got, inject)
        assert len(received) == 1
        assert received[0].number == "+254700000001"
        assert received[0].text == "hello gsmmodem"
        subs = sim.submitted()
        assert [(s["destination"], s["text"]) for s in subs] == [("+254711111111", "reply from gsmmodem")]
        assert ref == subs[0]["mr"]


# ---------------------------------------------------------------------- gammu CLI
GAMMU = shutil.which("gammu")


async def _gammu(rc: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        GAMMU or "gammu", "-c", str(rc), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(60):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    return text


@pytest.mark.skipif(GAMMU is None, reason="gammu CLI not installed")
async def test_gammu_identify_getallsms_sendsms(tmp_path: Path) -> None:
    async with SimModem(tmp_path / "gsm0", seed=1) as sim:
        rc = tmp_path / "gammurc"
        rc.write_text(f"[gammu]\ndevice = {sim.link}\nconnection = at\n")
        ident = await _gammu(rc, "identify")
        assert "Manufacturer         : SIMULATED" in ident
        assert "IMEI                 : 356789012345678" in ident
        assert "SIM IMSI             : 001010123456789" in ident

        await sim.inject_text("+254700000001", "first for gammu")
        await sim.inject_text("+254700000002", "second " + "ж" * 80)  # UCS2, 2 parts
        await sim.wait_delivered()
        listing = await _gammu(rc, "getallsms")
        assert "first for gammu" in listing
        assert '"+254700000001"' in listing and '"+254700000002"' in listing
        assert "ж" * 60 in listing.replace("\n", "")
        assert "3 SMS parts in" in listing

        out = await _gammu(rc, "sendsms", "TEXT", "+254722222222", "-text", "sent by gammu")
        assert "OK, message reference=0" in out
        subs = sim.submitted()
        got = [(s["destination"], s["text"], s["mr"]) for s in subs]
        assert got == [("+254722222222", "sent by gammu", 0)]
