"""The real transport: the driver over a pty through pyserial-asyncio-fast (the connector every daemon uses),
where the rest of tests/at uses in-memory ports. Open and close, the exclusive lock, a device node that
vanishes and comes back (also in the middle of an open), echo and garbage over a real tty, and one receive
and one send per profile."""

from __future__ import annotations

import asyncio
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modembridge.at import MessageStored, ModemState, ModemUnavailable, StateChanged
from modembridge.at.channel import AtChannel
from modembridge.at.connector import SERIAL
from modembridge.at.parser import AtParser
from modembridge.sim.harness import SimModem
from modembridge.sms.pdu import Deliver, decode_pdu, encode_submit

from .helpers import fast_config, next_event, running, wait_state

SimFactory = Callable[..., SimModem]
PROFILES = ["generic", "huawei", "sim800", "quectel"]
pytestmark = pytest.mark.real_time


async def until(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("profile", PROFILES)
async def test_one_receive_and_one_send_per_profile(pty_sim_factory: SimFactory, profile: str) -> None:
    async with pty_sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), indication="stored"), connector=SERIAL) as modem:
        assert modem.info.profile == profile and sim.status()["echo"] is False
        await sim.inject_text("+254700000001", f"over the tty {profile}")
        ev = await next_event(modem, MessageStored)
        stored = await modem.read(ev.mem, ev.index)
        assert stored is not None
        msg = decode_pdu(stored.pdu)
        assert isinstance(msg, Deliver) and msg.text == f"over the tty {profile}"
        await modem.delete(ev.mem, ev.index)
        (part,) = encode_submit("+254700000002", "out over the tty")
        mr = await modem.send(part.hex, part.tpdu_length)
        (rec,) = await sim.wait_submitted(1)
        assert rec["mr"] == mr and rec["text"] == "out over the tty"


async def test_stop_closes_the_port_for_the_next_opener(pty_sim: SimModem) -> None:
    async with running(fast_config(str(pty_sim.link)), connector=SERIAL) as modem:
        assert modem.state is ModemState.READY
    assert modem.state is ModemState.STOPPED
    chan = await AtChannel.open(str(pty_sim.link), 115200, AtParser(), lambda _u: None)  # not locked any more
    try:
        assert await chan.command("AT", 2) == []
    finally:
        await chan.close()
    assert not chan.is_open


async def test_a_busy_port_is_reported_and_waited_for(pty_sim: SimModem) -> None:
    other = await AtChannel.open(str(pty_sim.link), 115200, AtParser(), lambda _u: None)
    try:
        async with running(fast_config(str(pty_sim.link), command_timeout=0.3), ready=False,
                           connector=SERIAL) as modem:
            await until(lambda: "busy" in (modem.last_error or ""))
            assert modem.state == ModemState.CONNECTING
            with pytest.raises(ModemUnavailable):  # not ready within the operation's timeout
                await modem.read("SM", 1)
            await other.close()  # the other process lets go: the driver gets it
            await wait_state(modem, ModemState.READY, timeout=10)
    finally:
        await other.close()


async def test_the_device_node_vanishes_and_reappears(pty_sim: SimModem) -> None:
    async with running(fast_config(str(pty_sim.link), indication="stored"), connector=SERIAL) as modem:
        await pty_sim.vanish(0.5)
        gone = (ModemState.RECOVERING, ModemState.CONNECTING)
        await next_event(modem, StateChanged, lambda e: e.state in gone)
        assert modem.last_error and not pty_sim.link.exists()
        await pty_sim.wait_present(5)
        await wait_state(modem, ModemState.READY, timeout=10)
        await pty_sim.inject_text("+254700000001", "back")
        ev = await next_event(modem, MessageStored)
        assert await modem.read(ev.mem, ev.index) is not None


async def test_a_missing_device_node_is_waited_for(tmp_path: Path, pty_sim_factory: SimFactory) -> None:
    link = tmp_path / "later"
    async with running(fast_config(str(link)), ready=False, connector=SERIAL) as modem:
        await until(lambda: "no such port" in (modem.last_error or ""))
        async with pty_sim_factory(link):
            await wait_state(modem, ModemState.READY, timeout=10)


async def test_a_device_vanishing_while_it_is_opened_does_not_end_supervision(
        pty_sim: SimModem, monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = termios.tcsetattr, [0]

    def flaky(fd: int, when: int, attrs: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:  # pyserial configures the tty after os.open(): the device is gone by then
            raise termios.error(5, "Input/output error")
        real(fd, when, attrs)

    monkeypatch.setattr(termios, "tcsetattr", flaky)
    async with running(fast_config(str(pty_sim.link)), connector=SERIAL) as modem:  # READY, clean exit
        assert calls[0] >= 2 and modem.state is ModemState.READY


async def test_echo_and_garbage_over_a_real_tty(pty_sim: SimModem) -> None:
    async with running(fast_config(str(pty_sim.link), indication="stored"), connector=SERIAL) as modem:
        for _ in range(3):
            pty_sim.garbage(64)
        pty_sim.restart()  # echo is on again after the restart: noticed, stripped, re-initialised
        await wait_state(modem, ModemState.INITIALIZING, timeout=10)
        await wait_state(modem, ModemState.READY, timeout=10)
        assert pty_sim.status()["echo"] is False
        await pty_sim.inject_text("+254700000001", "after garbage")
        ev = await next_event(modem, MessageStored)
        assert await modem.read(ev.mem, ev.index) is not None
