"""AtChannel and odd-modem behaviours against a scripted modem (on an in-memory port)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from modembridge.at import (
    AtTimeout,
    CmeError,
    CmsError,
    ErrorResult,
    ModemState,
    ModemUnavailable,
    PayloadWithheld,
    PromptTimeout,
    ResultError,
)
from modembridge.at.channel import AtChannel
from modembridge.at.parser import AtParser, Urc
from modembridge.sim.memory import PORTS

from .helpers import fast_config, running
from .scripted import Reply, ScriptedModem, ok, table_answer

PDU = "07915155000000F0040C9152740000001000006211828042940005E8329BFD06"


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[..., ScriptedModem]]:
    made: list[ScriptedModem] = []

    def make(answer: Callable[[str], Reply], **kw: bool) -> ScriptedModem:
        m = ScriptedModem(answer, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.shutdown()


async def open_channel(path: str, urcs: list[Urc] | None = None) -> AtChannel:
    sink = urcs if urcs is not None else []
    return await AtChannel.open(path, 115200, AtParser(), sink.append, connector=PORTS)


async def test_command_and_errors(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(table_answer({
        "AT+CSQ": ok("+CSQ: 20,99"),
        "AT+CPIN?": "\r\n+CME ERROR: 10\r\n",
        "AT+CMGR=9": "\r\n+CMS ERROR: 321\r\n",
        "AT^CURC=0": "\r\nCOMMAND NOT SUPPORT\r\n",
    }))
    chan = await open_channel(peer.path)
    try:
        assert await chan.command("AT+CSQ", 2) == ["+CSQ: 20,99"]
        with pytest.raises(CmeError) as cme:
            await chan.command("AT+CPIN?", 2)
        assert cme.value.code == 10 and "SIM not inserted" in str(cme.value)
        with pytest.raises(CmsError) as cms:
            await chan.command("AT+CMGR=9", 2)
        assert cms.value.code == 321
        with pytest.raises(ErrorResult, match="COMMAND NOT SUPPORT") as plain:
            await chan.command("AT^CURC=0", 2)
        assert plain.value.result == "COMMAND NOT SUPPORT"
    finally:
        await chan.close()


async def test_urc_during_a_command_goes_to_the_handler(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(table_answer({"AT+CSQ": '\r\n+CSQ: 20,99\r\n\r\n+CMTI: "SM",4\r\n\r\nOK\r\n'}))
    urcs: list[Urc] = []
    chan = await open_channel(peer.path, urcs)
    try:
        assert await chan.command("AT+CSQ", 2) == ["+CSQ: 20,99"]
        assert [u.text for u in urcs] == ['+CMTI: "SM",4']
    finally:
        await chan.close()


async def test_one_command_in_flight(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda line: ok(f"{line[2:]}: {line}") if line.startswith("AT+X") else None)
    chan = await open_channel(peer.path)
    try:
        results = await asyncio.gather(*(chan.command(f"AT+X{i}", 2) for i in range(10)))
        assert results == [[f"+X{i}: AT+X{i}"] for i in range(10)]
    finally:
        await chan.close()


async def test_prompt_exchange_without_cr(scripted: Callable[..., ScriptedModem]) -> None:
    def answer(line: str) -> Reply:
        if line.startswith("AT+CMGS="):
            return "\r\n> "
        if line == PDU:
            return ok("+CMGS: 42")
        return None

    peer = scripted(answer)
    chan = await open_channel(peer.path)
    try:
        assert await chan.command_prompt("AT+CMGS=24", PDU, 2) == ["+CMGS: 42"]
        assert bytes(peer.received) == b"AT+CMGS=24\r" + PDU.encode() + b"\x1a"
    finally:
        await chan.close()


async def test_no_prompt_times_out_and_escapes(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda line: None)
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(PromptTimeout, match="prompt") as exc:
            await chan.command_prompt("AT+CMGS=24", PDU, 0.3)
        assert not isinstance(exc.value, AtTimeout)  # not "unknown": certainly not sent
        await asyncio.wait_for(_until(lambda: b"\x1b" in peer.received), 2)
        assert PDU.encode() not in peer.received  # never sent without a prompt
    finally:
        await chan.close()


async def test_silence_after_the_pdu_is_an_unknown_outcome(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda line: "\r\n> " if line.startswith("AT+CMGS") else None)
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(AtTimeout):
            await chan.command_prompt("AT+CMGS=24", PDU, 0.3)
        assert peer.received.endswith(PDU.encode() + b"\x1a")  # it was written: the outcome is unknown
    finally:
        await chan.close()


async def test_error_instead_of_prompt(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda line: "\r\n+CMS ERROR: 304\r\n" if line.startswith("AT+CMGS") else None)
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(CmsError) as exc:
            await chan.command_prompt("AT+CMGS=999", PDU, 2)
        assert exc.value.code == 304
    finally:
        await chan.close()


def _prompting(after_pdu: str) -> Callable[[str], Reply]:
    def answer(line: str) -> Reply:
        if line.startswith("AT+CMGS="):
            return "\r\n> "
        if line == PDU:
            return after_pdu
        return ok() if line == "AT" else None
    return answer


async def _answer(value: bool, peer: ScriptedModem | None = None, write: bytes = b"",
                  chan: AtChannel | None = None, block: float = 0.0) -> bool:
    """A caller's precondition at the prompt: optionally the modem sends a final result meanwhile (awaited
    until `chan` has it), or the loop is blocked (a COMMIT's fsync)."""
    if peer is not None and chan is not None:
        before = chan.last_final
        peer.write(write)
        await asyncio.wait_for(_until(lambda: chan.last_final != before), 2)
    time.sleep(block)  # the point: the loop is blocked, as by a journal's fsync
    return value


async def test_a_withheld_pdu_is_escaped_and_the_next_command_resynchronises(
        scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(_prompting(ok("+CMGS: 1")))
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(PayloadWithheld):
            await chan.command_prompt("AT+CMGS=24", PDU, 2, prompt_timeout=1, before_payload=_answer(False))
        await asyncio.wait_for(_until(lambda: peer.received.endswith(b"\x1b")), 2)
        assert PDU.encode() not in peer.received
        assert chan.out_of_sync  # what the modem says to the ESC must not answer the next command
        peer.write(b"\r\nOK\r\n")  # its answer to the ESC
        assert await chan.command_prompt("AT+CMGS=24", PDU, 2, before_payload=_answer(True)) == ["+CMGS: 1"]
        assert peer.received.count(PDU.encode()) == 1
    finally:
        await chan.close()


async def test_a_stray_final_after_the_prompt_leaves_the_prompt_with_esc(
        scripted: Callable[..., ScriptedModem]) -> None:
    """An earlier command's late error arrives while the caller's COMMIT is awaited at a real prompt:
    that error is no answer to the PDU (none was written); the modem still waits at its prompt."""
    peer = scripted(_prompting(ok("+CMGS: 1")))
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(CmsError):
            await chan.command_prompt("AT+CMGS=24", PDU, 2, before_payload=_answer(
                True, peer, b"\r\n+CMS ERROR: 500\r\n", chan))
        await asyncio.wait_for(_until(lambda: peer.received.endswith(b"\x1b")), 2)
        assert PDU.encode() not in peer.received
        assert chan.out_of_sync
    finally:
        await chan.close()


async def test_a_commit_that_blocks_the_loop_at_the_prompt_does_not_make_the_send_unknown(
        scripted: Callable[..., ScriptedModem]) -> None:
    """The caller's fsync blocks the loop longer than the exchange's budget: that time is not the
    modem's, so the answer that comes at once after the PDU still counts (not an unknown outcome)."""
    peer = scripted(_prompting(ok("+CMGS: 7")))
    chan = await open_channel(peer.path)
    try:
        got = await chan.command_prompt("AT+CMGS=24", PDU, 0.4, prompt_timeout=0.4,
                                        before_payload=_answer(True, block=0.5))
        assert got == ["+CMGS: 7"]
    finally:
        await chan.close()


async def test_late_answer_is_not_taken_for_the_next(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(table_answer({"AT+SLOW": None, "AT+CSQ": ok("+CSQ: 9,99")}))
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(AtTimeout):
            await chan.command("AT+SLOW", 0.2)
        peer.write(b"\r\n+SLOW: late\r\n")  # arrives while nothing is pending: not a response line
        assert await chan.command("AT+CSQ", 2) == ["+CSQ: 9,99"]
    finally:
        await chan.close()


async def test_vanished_port_fails_the_pending_command(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda line: None)
    chan = await open_channel(peer.path)
    try:
        pending = asyncio.create_task(chan.command("AT+CSQ", 5))
        await peer.wait_line(lambda x: x == "AT+CSQ")
        peer.close()
        with pytest.raises(ModemUnavailable):
            await asyncio.wait_for(pending, 5)
        assert chan.lost.is_set() and not chan.is_open
        with pytest.raises(ModemUnavailable):
            await chan.command("AT", 1)
    finally:
        await chan.close()


async def _until(pred: Callable[[], bool]) -> None:
    while not pred():
        await asyncio.sleep(0.01)


# --- odd modems through the whole driver --------------------------------------------------------------------
def odd_modem() -> Callable[[str], Reply]:
    """Always echoes (ATE0 ignored), no CNMI=? support, CMGL without alpha, CPMS? misreported."""
    stored = {1: PDU}

    def answer(line: str) -> Reply:
        cmd = line.strip().upper()
        fixed: dict[str, Reply] = {
            "AT": ok(), "ATE0": ok(), "AT+CMEE=1": ok(), "AT+CGMI": ok("ACME"), "AT+CGMM": ok("X1"),
            "AT+CGMR": ok("1.0"), "AT+CGSN": ok("490154203237518"), "AT+CPIN?": ok("+CPIN: READY"),
            "AT+CIMI": ok("001010000000001"), "AT+CCID": ok("+CCID: 8901260000000000009F"),
            "AT+CMGF=0": ok(), "AT+CPMS=?": ok('+CPMS: ("SM"),("SM"),("SM")'),
            'AT+CPMS="SM","SM","SM"': ok("+CPMS: 1,10,1,10,1,10"),
            "AT+CPMS?": ok('+CPMS: "SM",1,0,"SM",1,0,"SM",1,0'),  # total misreported as 0
            "AT+CNMI=?": "\r\nERROR\r\n", "AT+CNMI=2,1,2,1,0": ok(), "AT+CNMI?": ok("+CNMI: 2,1,2,1,0"),
            "AT+CSQ": ok("+CSQ: 99,99"), "AT+CREG?": ok("+CREG: 0,5"), "AT+COPS=3,0": ok(),
            "AT+COPS?": ok('+COPS: 0,0,"ROAMNET",0'),
            "AT+CMGL=4": ok(*(x for i, p in stored.items() for x in (f"+CMGL: {i},1,24", p))),
        }
        if cmd in fixed:
            return fixed[cmd]
        if cmd.startswith("AT+CMGD="):
            stored.pop(int(cmd.split("=")[1]), None)
            return ok()
        return "\r\nERROR\r\n"

    return answer


async def test_odd_modem_reaches_ready_and_works(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(odd_modem(), echo=True)
    async with running(fast_config(peer.path, health_interval=0.2)) as modem:
        assert modem.cnmi == (2, 1, 2, 1, 0)  # CNMI=? refused: the preferred setting tried anyway
        assert modem.registration == "roaming" and modem.signal_dbm is None
        assert modem.operator == "ROAMNET"
        assert modem.info.iccid == "8901260000000000009"
        (only,) = await modem.list_stored()
        assert (only.index, only.stat, only.length, only.pdu) == (1, 1, 24, PDU)
        await modem.delete("SM", 1)
        assert await modem.list_stored() == []
        # several health polls later, the constant echo has not been mistaken for a restart
        n = len(peer.lines)
        await peer.wait_line(lambda x: x == "AT+CSQ" and len(peer.lines) > n + 12)
        assert modem.state == ModemState.READY


async def test_a_late_answer_after_a_timeout_is_dropped_before_the_next_command(
    scripted: Callable[..., ScriptedModem],
) -> None:
    """Found in review: a reply to a timed-out AT+CMGR completed the next AT+CMGR, whose slot was then
    deleted without its message being journalled. The channel now resynchronises after a timeout."""
    peer = scripted(table_answer({"AT+SLOW": None, "AT": ok(), "AT+CSQ": ok("+CSQ: 9,99")}))
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(AtTimeout):
            await chan.command("AT+SLOW", 0.2)
        assert chan.out_of_sync
        pending = asyncio.create_task(chan.command("AT+CSQ", 2))
        peer.write(b"\r\n+SLOW: 1,2\r\n\r\nOK\r\n")  # the slow command's answer, late
        assert await pending == ["+CSQ: 9,99"]
        assert not chan.out_of_sync
    finally:
        await chan.close()


async def test_ok_instead_of_the_prompt_is_out_of_step_and_sends_nothing(
    scripted: Callable[..., ScriptedModem],
) -> None:
    peer = scripted(lambda line: "\r\nOK\r\n" if line.startswith("AT+CMGS") else None)
    chan = await open_channel(peer.path)
    try:
        with pytest.raises(ResultError, match="before the '> ' prompt"):
            await chan.command_prompt("AT+CMGS=24", PDU, 2)
        assert PDU.encode() not in peer.received
        assert chan.out_of_sync
    finally:
        await chan.close()


async def test_port_lost_after_the_pdu_is_an_unknown_outcome(scripted: Callable[..., ScriptedModem]) -> None:
    """Found in review: a port that vanished after the PDU went out was retried as 'certainly not sent'."""
    peer = scripted(lambda line: "\r\n> " if line.startswith("AT+CMGS") else None)
    chan = await open_channel(peer.path)
    try:
        pending = asyncio.create_task(chan.command_prompt("AT+CMGS=24", PDU, 5))
        await peer.wait_line(lambda x: x == PDU)
        peer.close()
        with pytest.raises(AtTimeout, match="outcome unknown"):
            await asyncio.wait_for(pending, 5)
    finally:
        await chan.close()


def _stream(peer: ScriptedModem, lines: list[str], gap: float, final: str | None) -> None:
    """Write one line every ``gap`` seconds (a long answer at a low baud rate), then ``final``."""
    loop = asyncio.get_running_loop()
    for i, line in enumerate(lines):
        loop.call_later(gap * (i + 1), peer.write, f"\r\n{line}\r\n".encode())
    if final is not None:
        loop.call_later(gap * (len(lines) + 1), peer.write, f"\r\n{final}\r\n".encode())


async def test_an_answer_that_keeps_streaming_outlasts_the_timeout(
        scripted: Callable[..., ScriptedModem]) -> None:
    lines = [x for i in range(4) for x in (f"+CMGL: {i},1,,27", PDU)]  # 8 lines, 0.15 s apart: 1.35 s in all
    peer = scripted(lambda _line: None)
    chan = await open_channel(peer.path)
    try:
        task = asyncio.create_task(chan.command("AT+CMGL=4", 0.4))
        await peer.wait_line(lambda x: x == "AT+CMGL=4")
        _stream(peer, lines, 0.15, "OK")
        assert await task == lines  # silence never exceeded 0.4 s, though the whole answer did
    finally:
        await chan.close()


async def test_a_never_ending_answer_is_cut_at_four_timeouts(scripted: Callable[..., ScriptedModem]) -> None:
    peer = scripted(lambda _line: None)
    chan = await open_channel(peer.path)
    try:
        task = asyncio.create_task(chan.command("AT+CMGL=4", 0.3))
        await peer.wait_line(lambda x: x == "AT+CMGL=4")
        _stream(peer, [f"+CMGL: {i},1,,27" for i in range(40)], 0.1, None)  # 4 s of lines, no OK
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AtTimeout):
            await task
        assert loop.time() - started < 3.0  # cut by the 1.2 s cap, long before the 4 s stream ends
    finally:
        await chan.close()
