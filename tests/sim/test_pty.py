"""The simulator over a real pty, byte for byte: profiles, faults, pacing, persistence, control API, CLI."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from modembridge.sim.harness import SimModem
from modembridge.sim.process import SimProcess
from modembridge.sim.testing import HostPort
from modembridge.sms import Deliver, decode_pdu, encode_submit

Opener = Callable[[str | Path], HostPort]
STANDARD = [  # one conversation every profile must carry
    ("ATE0", rb"ATE0\r\r\nOK\r\n"),
    ("AT+CMEE=1", rb"\r\nOK\r\n"),
    ("AT+CPIN?", rb"\r\n\+CPIN: READY\r\n\r\nOK\r\n"),
    ("AT+CMGF=0", rb"\r\nOK\r\n"),
    ('AT+CPMS="SM","SM","SM"', rb"\r\n\+CPMS: 0,30,0,30,0,30\r\n\r\nOK\r\n"),
    ("AT+CNMI=2,1,0,2,0", rb"\r\nOK\r\n"),
    ("AT+CSQ", rb"\r\n\+CSQ: 20,99\r\n\r\nOK\r\n"),
    ("AT+CREG?", rb"\r\n\+CREG: 0,1\r\n\r\nOK\r\n"),
]
NOISE = re.compile(rb"\r\n\^[A-Z]+:[^\r]*\r\n")


async def send_pdu(port: HostPort, dest: str, text: str, **kw: object) -> bytes:
    p = encode_submit(dest, text, **kw)[0]  # type: ignore[arg-type]
    port.write(f"AT+CMGS={p.tpdu_length}\r".encode())
    await port.read_until(b"> ")
    port.write(p.hex.encode() + b"\x1a")
    return await port.read_until(re.compile(rb"\r\n(OK|ERROR|\+CMS ERROR: \d+)\r\n"))


@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_standard_conversation_on_every_profile(
        sim_factory: Callable[..., SimModem], host_port: Opener, profile: str) -> None:
    async with sim_factory(profile=profile, noise=True) as sim:
        await sim.wait_present()
        port = host_port(sim.link)
        banner = await port.quiet(0.05)
        assert banner == b"".join(b"\r\n" + line.encode() + b"\r\n" for line in sim.e.profile.boot_lines)
        for cmd, expected in STANDARD:
            got = NOISE.sub(b"", await port.command(cmd))  # Huawei noise may land in any response
            assert re.fullmatch(expected, got), (cmd, got)
        await sim.inject_text("+254700000001", "standard")
        base = sim.e.profile.index_base
        urc = await port.read_until(re.compile(rb'\+CMTI: "SM",\d+\r\n'))
        assert f'+CMTI: "SM",{base}'.encode() in urc
        listing = NOISE.sub(b"", await port.command(f"AT+CMGR={base}"))
        m = re.fullmatch(rb"\r\n\+CMGR: 0,,(\d+)\r\n([0-9A-F]+)\r\n\r\nOK\r\n", listing)
        assert m, listing
        msg = decode_pdu(m.group(2).decode())
        assert isinstance(msg, Deliver) and msg.text == "standard" and msg.sender == "+254700000001"
        result = NOISE.sub(b"", await send_pdu(port, "+254711111111", "answer"))
        assert result.endswith(b"\r\n+CMGS: 0\r\n\r\nOK\r\n")
        assert NOISE.sub(b"", await port.command(f"AT+CMGD={base}")) == b"\r\nOK\r\n"
        assert sim.submitted()[0]["text"] == "answer"


async def test_echo_and_prompt_bytes(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    assert await port.command("AT") == b"AT\r\r\nOK\r\n"
    p = encode_submit("+1555", "x")[0]
    port.write(f"AT+CMGS={p.tpdu_length}\r".encode())
    assert await port.read_until(b"> ") == f"AT+CMGS={p.tpdu_length}\r\r\n> ".encode()
    assert await port.quiet(0.05) == b""  # the prompt has no line ending and nothing follows it
    port.write(p.hex.encode() + b"\x1a")
    assert await port.read_until(b"OK\r\n") == p.hex.encode() + b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


async def test_urc_between_send_and_result(sim_factory: Callable[..., SimModem], host_port: Opener) -> None:
    async with sim_factory(send_delay=0.3) as sim:
        port = host_port(sim.link)
        await port.command("ATE0;+CNMI=2,1,0,0,0")
        p = encode_submit("+1555", "x")[0]
        port.write(f"AT+CMGS={p.tpdu_length}\r".encode())
        await port.read_until(b"> ")
        port.write(p.hex.encode() + b"\x1a")
        await sim.wait_for(lambda: sim.e.mode == "busy")
        await sim.inject_text("+1666", "meanwhile")
        got = await port.read_until(b"OK\r\n")
        assert got == b'\r\n+CMTI: "SM",1\r\n\r\n+CMGS: 0\r\n\r\nOK\r\n'


# ---------------------------------------------------------------------- faults
async def test_fault_hang(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0")
    sim.set_hang(True)
    port.write(b"AT\r")
    assert await port.quiet(0.2) == b""
    sim.set_hang(False)
    assert await port.command("AT") == b"\r\nOK\r\n"


async def test_fault_send_errors(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0")
    sim.fail_sends(1)
    sim.fail_sends(1, cms=500)
    assert await send_pdu(port, "+1555", "a") == b"\r\nERROR\r\n"
    assert await send_pdu(port, "+1555", "b") == b"\r\n+CMS ERROR: 500\r\n"
    assert await send_pdu(port, "+1555", "c") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert [s["text"] for s in sim.submitted()] == ["c"]


async def test_fault_sim_full(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0;+CNMI=2,1,0,0,0")
    sim.set_sim_full(True)
    await sim.inject_text("+1555", "held by the network")
    assert await port.command("AT+CPMS?") == b'\r\n+CPMS: "SM",30,30,"SM",30,30,"SM",30,30\r\n\r\nOK\r\n'
    assert await port.command("AT+CMGW=12") == b"\r\n+CMS ERROR: 322\r\n"
    assert sim.status()["network_queue"] == 1
    sim.set_sim_full(False)
    assert await port.read_until(b"\r\n") + await port.read_until(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'


async def test_fault_garbage(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0")
    junk = sim.garbage(40)
    assert await port.read_until(junk) == junk
    assert await port.command("AT") == b"\r\nOK\r\n"


async def test_fault_restart(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0;+CMGF=1;+CNMI=2,1,0,2,0")
    sim.restart()
    assert await port.read_until(b"RDY\r\n") == b"\r\nRDY\r\n"
    assert await port.command("AT+CNMI?") == b"AT+CNMI?\r\r\n+CNMI: 0,0,0,0,0\r\n\r\nOK\r\n"  # echo back on


async def test_fault_vanish_and_reappear(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("AT")
    await sim.vanish(0.3)
    assert not sim.link.exists()
    with pytest.raises(EOFError):
        await port.read_until(b"never", timeout=2)
    await sim.wait_present(timeout=3)
    assert sim.link.is_symlink()
    port2 = host_port(sim.link)
    assert await port2.command("AT") == b"AT\r\r\nOK\r\n"  # fresh power-up: echo on


async def test_pin_over_pty(sim_factory: Callable[..., SimModem], host_port: Opener) -> None:
    async with sim_factory(pin="1111") as sim:
        port = host_port(sim.link)
        await port.command("ATE0;+CMEE=2")
        assert await port.command("AT+CMGL=4") == b"\r\n+CMS ERROR: SIM PIN required\r\n"
        assert await port.command('AT+CPIN="1111"') == b"\r\nOK\r\n"
        assert await port.command("AT+CMGL=4") == b"\r\nOK\r\n"


# ---------------------------------------------------------------------- pacing, persistence
async def test_baud_pacing(sim_factory: Callable[..., SimModem], host_port: Opener) -> None:
    async with sim_factory(baud=9600) as sim:  # 960 bytes/s
        port = host_port(sim.link)
        await port.command("ATE0")
        for i in range(4):
            await sim.inject_text("+1555", f"message {i} " + "p" * 100)
        await sim.wait_delivered()
        port.take()
        t0 = time.monotonic()
        out = await port.command("AT+CMGL=4")
        elapsed = time.monotonic() - t0
        expected = (len(out) + len(b"AT+CMGL=4\r")) / 960
        assert len(out) > 600
        assert expected * 0.8 < elapsed < expected * 2 + 0.2, (elapsed, expected)


async def test_baud_pacing_of_input(sim_factory: Callable[..., SimModem], host_port: Opener) -> None:
    async with sim_factory(baud=19200) as sim:  # 1920 bytes/s
        port = host_port(sim.link)
        await port.command("ATE0")
        line = b"AT" + b";+CSQ" * 200 + b"\r"  # about 1 kB in one write
        t0 = time.monotonic()
        port.write(line)
        await sim.wait_traffic(line[-50:], direction="rx", timeout=5)
        elapsed = time.monotonic() - t0
        assert 0.8 * len(line) / 1920 < elapsed < 2 * len(line) / 1920 + 0.2, elapsed
        await port.read_until(b"OK\r\n")


async def test_state_survives_simulator_restart(tmp_path: Path, host_port: Opener) -> None:
    state = tmp_path / "sim.json"
    async with SimModem(tmp_path / "gsm0", state=state, seed=1) as sim:
        port = host_port(sim.link)
        await port.command("ATE0;+CNMI=2,1,0,0,0")
        await sim.inject_text("+1555", "survives")
        await port.read_until(b'+CMTI: "SM",1\r\n')
        assert (await send_pdu(port, "+1555", "a")).endswith(b"+CMGS: 0\r\n\r\nOK\r\n")
        port.close()
    async with SimModem(tmp_path / "gsm0", state=state, seed=1) as sim:
        port = host_port(sim.link)
        await port.command("ATE0")
        out = await port.command("AT+CMGL=4")
        assert out.startswith(b"\r\n+CMGL: 1,0,,")  # still unread, from the state file
        assert (await send_pdu(port, "+1555", "b")).endswith(b"+CMGS: 1\r\n\r\nOK\r\n")
    data = json.loads(state.read_text())
    assert data["mr"] == 2 and len(data["memories"]["SM"]) == 1


# ---------------------------------------------------------------------- control API and CLI
async def test_control_api(sim: SimModem, host_port: Opener) -> None:
    port = host_port(sim.link)
    await port.command("ATE0;+CNMI=2,1,0,0,0")
    assert sim.control_url is not None
    async with aiohttp.ClientSession(base_url=sim.control_url) as http:
        async with http.post("/inject", json={"sender": "+1555", "text": "via http"}) as r:
            assert r.status == 200 and len((await r.json())["pdus"]) == 1
        await port.read_until(b'+CMTI: "SM",1\r\n')
        async with http.get("/storage") as r:
            assert len((await r.json())["memories"]["SM"]) == 1
        async with http.post("/unreachable", json={"number": "+1999"}) as r:
            assert r.status == 200
        assert sim.e.network.unreachable == {"1999": 0x41}
        async with http.post("/fault/send-error", json={"count": 1, "cms": 38}) as r:
            assert r.status == 200
        assert await send_pdu(port, "+1555", "x") == b"\r\n+CMS ERROR: 38\r\n"
        assert (await send_pdu(port, "+1555", "y")).endswith(b"OK\r\n")
        async with http.get("/submitted", params={"wait": "1", "timeout": "2"}) as r:
            assert [s["text"] for s in await r.json()] == ["y"]
        async with http.get("/submitted", params={"wait": "5", "timeout": "0.1"}) as r:
            assert r.status == 408
        async with http.get("/traffic") as r:
            assert any(t["dir"] == "rx" and "+CNMI=2,1" in t["data"] for t in await r.json())
        async with http.post("/fault/nonsense") as r:
            assert r.status == 404
        async with http.post("/inject", json={"pdu": "00zz"}) as r:
            assert r.status == 400
        for bad in ({"sender": "+1555", "text": "x", "delay": "soon"}, {"pdu": "00", "delay": [1]}):
            async with http.post("/inject", json=bad) as r:
                assert r.status == 400


async def test_cli_process_ready_control_and_sigterm(tmp_path: Path, host_port: Opener) -> None:
    link = tmp_path / "gsm0"
    async with SimProcess(link, "--send-delay", "0.05", seed=2, state=tmp_path / "s.json") as proc:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proc.control_url)
        assert link.is_symlink()
        port = host_port(link)
        await port.command("ATE0")
        await proc.inject_text("+1555", "from outside")
        assert (await proc.status())["used"]["SM"] == 1
        assert (await send_pdu(port, "+1777", "out")).endswith(b"+CMGS: 0\r\n\r\nOK\r\n")
        subs = await proc.wait_submitted(1, timeout=5)
        assert subs[0]["destination"] == "+1777"
        code = await proc.stop()
    assert code == 0
    assert not link.exists() and not link.is_symlink()


async def test_cli_restart_keeps_sim(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    async with SimProcess(tmp_path / "gsm0", state=state) as proc:
        await proc.inject_text("+1555", "kept across processes")
        assert (await proc.status())["used"]["SM"] == 1
    async with SimProcess(tmp_path / "gsm0", state=state) as proc:
        stored = await proc.storage()
        assert len(stored["memories"]["SM"]) == 1


async def test_sim_process_fixture_faults_over_http(sim_process: SimProcess, host_port: Opener) -> None:
    port = host_port(sim_process.link)
    await port.command("ATE0")
    await sim_process.set_hang(True)
    port.write(b"AT\r")
    assert await port.quiet(0.2) == b""
    await sim_process.set_hang(False)
    assert await port.command("AT") == b"\r\nOK\r\n"
    await sim_process.fail_sends(1, cms=500)
    assert await send_pdu(port, "+1555", "x") == b"\r\n+CMS ERROR: 500\r\n"
    junk = await sim_process.garbage(8)
    assert await port.read_until(junk) == junk
    await sim_process.restart()
    assert (await port.read_until(b"RDY\r\n")).endswith(b"\r\nRDY\r\n")
    await sim_process.vanish(0.2)
    with pytest.raises(EOFError):
        await port.read_until(b"never", timeout=2)
    async with asyncio.timeout(5):
        while not (await sim_process.status())["open"] or not sim_process.link.exists():
            await asyncio.sleep(0.05)
    assert await host_port(sim_process.link).command("AT") == b"AT\r\r\nOK\r\n"


async def test_huawei_noise_inside_responses(sim_factory: Callable[..., SimModem], host_port: Opener) -> None:
    async with sim_factory(profile="huawei", seed=4) as sim:
        port = host_port(sim.link)
        await port.command("ATE0")
        answers = [await port.command("AT+CSQ") for _ in range(30)]
        before = re.compile(rb"\r\n\^[A-Z]+:[^\r]*\r\n\r\n\+CSQ: 20,99\r\n\r\nOK\r\n")
        between = re.compile(rb"\r\n\+CSQ: 20,99\r\n\r\n\^[A-Z]+:[^\r]*\r\n\r\nOK\r\n")
        inside = [a for a in answers if before.fullmatch(a) or between.fullmatch(a)]
        assert inside, answers
        assert all(NOISE.sub(b"", a).endswith(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n") for a in answers)
        assert (await port.command("AT+XYZ")).endswith(b"\r\nCOMMAND NOT SUPPORT\r\n")
