"""Edge cases a review of the driver found, each reproduced first, then fixed (an open() racing a vanishing
device is in test_pty_transport.py): a send queued behind a hung command, PIN answers that prove nothing,
a journal write failing during a PIN rejection, a storage selection answered late, a SIM that is not ready
right after a boot, and a hang during a sweep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from modembridge.at import AtTimeout, ErrorResult, ModemState, PromptTimeout
from modembridge.at.errors import CmeError
from modembridge.at.facts import VolatileFacts
from modembridge.at.quirks import GENERIC
from modembridge.at.sim_lock import SimNeedsHuman, unlock_sim
from modembridge.sim.harness import SimModem
from modembridge.sim.results import CmeError as SimCmeError
from modembridge.sms import encode_deliver
from modembridge.sms.pdu import decode_pdu, encode_submit

from .helpers import fast_config, running, wait_state

SimFactory = Callable[..., SimModem]
QUIET = {"ping_interval": 60.0, "health_interval": 300.0, "sweep_interval": 300.0}


async def test_a_send_behind_a_hung_command_is_certainly_not_sent(sim: SimModem) -> None:
    """The channel is out of step after the read timed out; its check before AT+CMGS gets no answer. That
    must say "nothing sent" (PromptTimeout), not "outcome unknown" (which fails the SMS by default)."""
    async with running(fast_config(str(sim.link), command_timeout=1.0, send_timeout=8.0, **QUIET)) as modem:
        sim.set_hang(True)
        sim.clear_traffic()
        (part,) = encode_submit("+254700000002", "hello")
        read = asyncio.create_task(modem.read("SM", 1))
        await asyncio.sleep(0)
        send = asyncio.create_task(modem.send(part.hex, part.tpdu_length))
        with pytest.raises(AtTimeout):
            await read
        with pytest.raises(PromptTimeout) as exc:
            await send
        assert not isinstance(exc.value, AtTimeout) and "nothing sent" in str(exc.value)
        assert b"AT+CMGS" not in sim.traffic_bytes("rx")
        sim.set_hang(False)


class PinSim:
    """A SIM behind a scripted modem: every AT+CPIN=<pin> is checked (and wrong), answered with ``code``."""

    def __init__(self, code: int, counter: bool) -> None:
        self.left, self.code, self.counter, self.entries = 3, code, counter, 0

    async def cmd(self, text: str, timeout: float | None) -> list[str]:
        if text == "AT+CPIN?":
            return ["+CPIN: SIM PUK" if self.left == 0 else "+CPIN: SIM PIN"]
        if text.startswith("AT+CPIN="):
            self.entries += 1
            self.left -= 1
            raise CmeError(self.code, "x", command=text)
        if self.counter and text.startswith("AT+CPINR"):
            return [f"+CPINR: SIM PIN,{self.left},3"]
        raise ErrorResult("ERROR", result="ERROR", command=text)


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.mark.parametrize("counter", [False, True])
@pytest.mark.parametrize("code", [14, 100, 16])
async def test_a_pin_answer_that_proves_nothing_is_never_followed_by_a_second_try(code: int,
                                                                                 counter: bool) -> None:
    """"SIM busy" (14) or "unknown" (100) after AT+CPIN=<pin>: the SIM may have counted a wrong PIN. Only a
    full attempt counter allows another try; here every try is counted, so there is exactly one."""
    sim, facts = PinSim(code, counter), VolatileFacts()
    for _start in range(3):  # also across restarts of the process
        with pytest.raises(SimNeedsHuman):
            await unlock_sim(sim.cmd, modem_id="gsm0", pin="1111", profile=GENERIC, facts=facts,
                             sleep=_no_wait, command_timeout=5.0)
    assert sim.entries == 1 and sim.left == 2


async def test_a_failed_journal_write_of_a_rejection_keeps_the_evidence() -> None:
    class FlakyJournal(VolatileFacts):
        failed = False

        async def remember(self, key: str, value: str | None) -> None:
            if key == "pin_rejected" and not self.failed:
                self.failed = True
                raise OSError("journal commit failed: disk full")
            await super().remember(key, value)

    sim, facts = PinSim(16, counter=True), FlakyJournal()
    with pytest.raises(OSError):
        await unlock_sim(sim.cmd, modem_id="gsm0", pin="1111", profile=GENERIC, facts=facts,
                         sleep=_no_wait, command_timeout=5.0)
    with pytest.raises(SimNeedsHuman):  # run() starts over: the unconfirmed entry decides
        await unlock_sim(sim.cmd, modem_id="gsm0", pin="1111", profile=GENERIC, facts=facts,
                         sleep=_no_wait, command_timeout=5.0)
    assert sim.entries == 1 and facts.recall("pin_rejected")


async def test_a_storage_selection_answered_late_never_mislabels_a_message(sim: SimModem) -> None:
    """AT+CPMS="ME" times out but the modem carries it out later: the driver must not go on believing SM
    is selected, or it lists ME's messages as SM's and then deletes an SM message nobody read."""
    # stored routing: the modem itself puts A in SM (with direct routing it would come inside a +CMT)
    config = fast_config(str(sim.link), command_timeout=1.0, indication="stored", **QUIET)
    async with running(config) as modem:
        await sim.inject_text("+254700000001", "A (in SM)")
        await sim.wait_for(lambda: bool(sim.e.storage.mems["SM"]))
        (b,) = encode_deliver("+254700000001", "B (in ME)", timestamp=datetime.now(UTC))
        sim.e.storage.store("ME", 0, b.hex, b.tpdu_length)
        engine, orig, armed = sim.e, sim.e._command_line, [True]

        def slow(raw: bytes) -> None:
            if armed[0] and b'+CPMS="ME"' in raw.upper():
                armed[0] = False
                engine.later(1.5, lambda: orig(raw))  # executed, but after the driver gave up
                return
            orig(raw)

        monkey = pytest.MonkeyPatch()
        monkey.setattr(engine, "_command_line", slow)
        try:
            with pytest.raises(AtTimeout):
                await modem.list_stored()
            await sim.wait_for(lambda: engine.cpms[0] == "ME", 5)  # the late selection happened
            listed = await modem.list_stored()
        finally:
            monkey.undo()
        seen = {(p.mem, decode_pdu(p.pdu, tpdu_length=p.length).text) for p in listed}
        assert seen == {("SM", "A (in SM)"), ("ME", "B (in ME)")}
        for p in listed:
            await modem.delete(p.mem, p.index)
        assert not sim.e.storage.mems["SM"] and not sim.e.storage.mems["ME"]


@pytest.mark.parametrize("answer", ["cme10", "not-ready"])
async def test_a_sim_still_starting_after_a_restart_is_waited_for(sim_factory: SimFactory,
                                                                  answer: str) -> None:
    """Right after a boot many modems say +CME ERROR: 10 (Quectel, u-blox) or +CPIN: NOT READY (SIMCom)
    for a second or two: that is not "no SIM", and must not park the modem in FAILED."""
    async with sim_factory(profile="quectel") as sim:
        clock = sim.e.scheduler.time  # the loop's
        booted = [clock()]
        sim.e.listeners.append(lambda ev: booted.__setitem__(0, clock()) if ev == "ready" else None)
        orig = sim.e.commands.cpin

        def cpin(cmd: Any, info: list[str]) -> str | None:
            if cmd.kind == "read" and clock() - booted[0] < 1.0:
                if answer == "cme10":
                    raise SimCmeError(10)
                info.append("+CPIN: NOT READY")
                return "OK"
            return orig(cmd, info)

        sim.e.commands.table["+CPIN"] = cpin
        async with running(fast_config(str(sim.link), command_timeout=1.0)) as modem:
            sim.restart()
            await wait_state(modem, ModemState.INITIALIZING, timeout=10)
            await wait_state(modem, ModemState.READY, timeout=15)
            assert await modem.read("SM", 1) is None  # operations work: not FAILED


async def test_a_hang_during_a_sweep_shows_within_one_command_timeout(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), command_timeout=1.0, **QUIET)) as modem:
        sim.set_hang(True)
        with pytest.raises(AtTimeout) as exc:
            await modem.list_stored()  # three memories: the operation's budget is 3 s, a command's 1 s
        assert "within 1s" in str(exc.value)
        sim.set_hang(False)
