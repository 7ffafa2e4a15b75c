"""The Modem driver against the simulated modem (in-memory ports): init per profile, inbound, sends,
faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from modembridge.at import (
    CmeError,
    CmsError,
    ErrorResult,
    MessageDirect,
    MessageStored,
    ModemEvent,
    ModemState,
    ModemUnavailable,
    PromptTimeout,
    ReportDirect,
    ReportStored,
    SendErrorClass,
    SendFailed,
    StateChanged,
    SweepNeeded,
)
from modembridge.at.quirks import get_profile
from modembridge.sim.harness import SimModem
from modembridge.sim.memory import PORTS
from modembridge.sms.pdu import Deliver, StatusReport, decode_pdu, encode_submit

from .helpers import fast_config, next_event, running, wait_state

SimFactory = Callable[..., SimModem]
STORED = {"indication": "stored"}  # the tests of the +CMTI path (AT+CMGR, AT+CMGD); direct: test_direct.py
CNMI = {"stored": (2, 1, 2, 1, 0), "direct": (2, 2, 0, 1, 0)}  # what each indication sets up on the sim


def submit(to: str = "+254700000002", text: str = "hi there", **kw: Any) -> tuple[str, int]:
    (part,) = encode_submit(to, text, **kw)
    return part.hex, part.tpdu_length


@pytest.mark.parametrize("indication", ["stored", "direct"])
@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_init_on_every_profile(sim_factory: SimFactory, profile: str, indication: str) -> None:
    async with sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), indication=indication)) as modem:
        st = sim.status()
        assert st["cmgf"] == 0 and st["echo"] is False
        assert tuple(st["cnmi"]) == CNMI[indication] and modem.cnmi == CNMI[indication]
        assert modem.info.profile == profile
        assert modem.info.imei == "356789012345678" and modem.info.imsi == "001010123456789"
        assert modem.info.iccid == "8901260000000000001"
        assert modem.registration == "home" and modem.operator == "SIMNET"
        assert modem.signal_dbm == -73
        snap = modem.snapshot()
        assert snap.state is ModemState.READY and snap.storage["SM"].total > 0
        assert snap.info.manufacturer == sim.e.profile.manufacturer
        # a sweep is requested once ready, so messages stored while we were away are found
        await next_event(modem, SweepNeeded)


async def test_profile_forced_by_config(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), profile="huawei")) as modem:
        assert modem.info.profile == "huawei"
        assert "AT^CURC=0" in sim.traffic_bytes("rx").decode()


@pytest.mark.parametrize("profile", ["generic", "huawei"])  # huawei stores from index 0
async def test_inbound_stored_read_delete(sim_factory: SimFactory, profile: str) -> None:
    async with sim_factory(profile=profile) as sim, running(fast_config(str(sim.link), **STORED)) as modem:
        await sim.inject_text("+254700000001", "hello modem")
        ev = await next_event(modem, MessageStored)
        assert ev.mem == "SM"
        stored = await modem.read(ev.mem, ev.index)
        assert stored is not None and stored.index == ev.index and stored.stat == 0
        msg = decode_pdu(stored.pdu)
        assert isinstance(msg, Deliver) and msg.sender == "+254700000001" and msg.text == "hello modem"
        assert stored.length == len(stored.pdu) // 2 - 8  # the SMSC part (07 + 7 octets) is not counted
        assert [p.index for p in await modem.list_stored()] == [ev.index]
        await modem.delete(ev.mem, ev.index)
        assert not sim.e.storage.mems["SM"]
        assert await modem.read(ev.mem, ev.index) is None
        await modem.delete(ev.mem, ev.index)  # deleting an empty slot is fine


async def test_list_stored_finds_messages_that_arrived_without_urc(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link))) as modem:
        sim.e.cnmi = [0, 0, 0, 0, 0]  # the modem "forgot" CNMI: stored silently
        await sim.inject_text("+254700000001", "one")
        await sim.inject_text("+254700000001", "two")
        await sim.wait_stored(2)
        got = await modem.list_stored()
        texts = sorted(m.text for m in (decode_pdu(p.pdu) for p in got) if isinstance(m, Deliver))
        assert texts == ["one", "two"]


@pytest.mark.parametrize("indication", ["stored", "direct"])
async def test_forgotten_cnmi_is_restored_by_the_health_poll(sim: SimModem, indication: str) -> None:
    async with running(fast_config(str(sim.link), health_interval=0.2, indication=indication)) as modem:
        sim.e.cnmi = [0, 0, 0, 0, 0]
        await next_event(modem, SweepNeeded, lambda e: "CNMI" in e.reason)
        await sim.wait_for(lambda: tuple(sim.e.cnmi) == CNMI[indication])


async def test_duplicate_cmti_for_one_slot_is_reported_once(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), **STORED)) as modem:
        await sim.inject_text("+254700000001", "x")
        ev = await next_event(modem, MessageStored)
        sim.e.urc(f'+CMTI: "SM",{ev.index}')  # a modem repeating itself
        sim.e.urc('+CMTI: "SM",99')
        dup = await next_event(modem, MessageStored)
        assert dup.index == 99  # the repeat of ev.index was swallowed
        await modem.delete("SM", ev.index)
        sim.e.urc(f'+CMTI: "SM",{ev.index}')  # after deletion the slot can be reused
        again = await next_event(modem, MessageStored)
        assert again.index == ev.index


async def test_send_prompt_exchange(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link))) as modem:
        pdu, length = submit(text="hello out")
        mr = await modem.send(pdu, length)
        (rec,) = await sim.wait_submitted(1)
        assert rec["mr"] == mr and rec["text"] == "hello out" and rec["destination"] == "+254700000002"
        assert f"AT+CMGS={length}\r".encode() in sim.traffic_bytes("rx")
        assert pdu.encode() + b"\x1a" in sim.traffic_bytes("rx")
        assert modem.state == ModemState.READY


def awaiting_ack(sim: SimModem) -> bool:
    return sim.e.network.awaiting is not None


async def test_status_report_direct_and_ack(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link))) as modem:
        pdu, length = submit(status_report=True)
        mr = await modem.send(pdu, length)
        ev = await next_event(modem, ReportDirect)
        rep = decode_pdu(ev.pdu)
        assert isinstance(rep, StatusReport) and rep.mr == mr
        assert awaiting_ack(sim)
        await modem.ack()
        assert not awaiting_ack(sim)
        await modem.ack()  # nothing to acknowledge: logged, not raised


async def test_quectel_reports_stored_in_sr_and_memory_switching(sim_factory: SimFactory) -> None:
    async with sim_factory(profile="quectel") as sim, running(fast_config(str(sim.link), **STORED)) as modem:
        pdu, length = submit(status_report=True)
        mr = await modem.send(pdu, length)
        ev = await next_event(modem, ReportStored)
        assert ev.mem == "SR"
        got = await modem.read("SR", ev.index)
        assert got is not None and got.mem == "SR"
        rep = decode_pdu(got.pdu)
        assert isinstance(rep, StatusReport) and rep.mr == mr
        await sim.inject_text("+254700000001", "in SM")
        msg = await next_event(modem, MessageStored)
        inbound = await modem.read(msg.mem, msg.index)  # back to SM
        assert inbound is not None and isinstance(decode_pdu(inbound.pdu), Deliver)
        listed = {(p.mem, p.index) for p in await modem.list_stored()}
        assert listed == {("SR", ev.index), ("SM", msg.index)}
        assert modem.snapshot().storage["SR"].used == 1  # fill of every memory visited
        await modem.delete("SR", ev.index)
        assert not sim.e.storage.mems["SR"]


@pytest.mark.parametrize(("cms", "result", "cls"), [
    (38, None, SendErrorClass.RETRY_LATER),
    (21, None, SendErrorClass.PERMANENT),
    (515, None, SendErrorClass.RETRY_SOON),
    (None, "ERROR", SendErrorClass.RETRY_LATER),
    (None, "+CME ERROR: 14", SendErrorClass.RETRY_SOON),
    (None, "+CMS ERROR: SMSC address unknown", SendErrorClass.RETRY_LATER),
])
async def test_send_errors_are_classified(sim: SimModem, cms: int | None, result: str | None,
                                          cls: SendErrorClass) -> None:
    async with running(fast_config(str(sim.link))) as modem:
        sim.fail_sends(1, cms=cms, result=result)
        pdu, length = submit()
        with pytest.raises(SendFailed) as exc:
            await modem.send(pdu, length)
        assert exc.value.error_class is cls
        original = {"ERROR": ErrorResult, "+CME ERROR: 14": CmeError}.get(result or "", CmsError)
        assert isinstance(exc.value.result, original)  # the modem's own answer is kept
        if cms is not None:
            assert exc.value.code == cms
        if original is not CmsError:
            assert exc.value.code is None  # code is a +CMS ERROR's only
        assert modem.state == ModemState.READY
        await modem.send(pdu, length)  # the next one goes
        assert len(sim.submitted()) == 1


async def test_send_while_not_registered_is_retry_later(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link))) as modem:
        sim.set_registration(2)
        with pytest.raises(SendFailed) as exc:
            await modem.send(*submit())
        assert exc.value.code == 331 and exc.value.error_class is SendErrorClass.RETRY_LATER


async def test_hang_times_out_then_recovers(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), send_timeout=1.0, command_timeout=1.0)) as modem:
        sim.set_hang(True)
        with pytest.raises(PromptTimeout):  # no prompt: certainly not sent
            await modem.send(*submit())
        seen: list[ModemEvent] = []
        await wait_state(modem, ModemState.RECOVERING, timeout=10, seen=seen)
        sim.set_hang(False)
        await wait_state(modem, ModemState.READY, timeout=10)
        assert modem.last_error is not None
        await modem.send(*submit(text="after the hang"))
        assert any(r["text"] == "after the hang" for r in sim.submitted())


async def test_operations_wait_while_recovering(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), command_timeout=1.0)) as modem:
        sim.set_hang(True)
        modem.supervisor.command_timed_out("test")  # make the supervisor probe the (hung) modem now
        await wait_state(modem, ModemState.RECOVERING, timeout=10)
        await sim.inject_text("+254700000001", "waiting")
        reader = asyncio.create_task(modem.list_stored())
        await asyncio.sleep(0)
        assert not reader.done()
        sim.set_hang(False)
        got = await asyncio.wait_for(reader, 10)
        assert len(got) == 1


async def test_garbage_is_survived(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), **STORED)) as modem:
        for _ in range(5):
            sim.garbage(64)
        await sim.inject_text("+254700000001", "after garbage")
        ev = await next_event(modem, MessageStored)
        got = await modem.read(ev.mem, ev.index)
        assert got is not None
        assert modem.state == ModemState.READY
        await modem.send(*submit())
        assert len(sim.submitted()) == 1


@pytest.mark.parametrize("indication", ["stored", "direct"])
@pytest.mark.parametrize("profile", ["generic", "sim800", "quectel", "huawei"])
async def test_spontaneous_restart_reinitialises(sim_factory: SimFactory, profile: str,
                                                 indication: str) -> None:
    async with sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), health_interval=0.5, indication=indication)) as modem:
        sim.restart()
        await sim.wait_for(lambda: sim.e.echo)  # the restarted modem forgot ATE0 ...
        seen: list[ModemEvent] = []
        await next_event(modem, StateChanged, lambda e: e.state == ModemState.INITIALIZING, 10, seen)
        await wait_state(modem, ModemState.READY, timeout=10)
        st = sim.status()
        assert tuple(st["cnmi"]) == CNMI[indication] and st["echo"] is False and st["cmgf"] == 0  # and CNMI
        await next_event(modem, SweepNeeded)
        await sim.inject_text("+254700000001", "after restart")
        await next_event(modem, MessageStored if indication == "stored" else MessageDirect)


async def test_missing_port_is_retried_until_it_appears(tmp_path: Any, sim_factory: SimFactory) -> None:
    link = tmp_path / "later"
    async with running(fast_config(str(link)), ready=False) as modem:
        await next_event(modem, StateChanged, lambda e: e.state == ModemState.CONNECTING)
        await asyncio.wait_for(_until(lambda: modem.last_error is not None), 5)
        assert "no such port" in (modem.last_error or "")
        async with sim_factory(link):
            await wait_state(modem, ModemState.READY, timeout=10)


async def test_busy_port_is_reported(sim: SimModem) -> None:
    from modembridge.at.channel import AtChannel
    from modembridge.at.parser import AtParser

    other = await AtChannel.open(str(sim.link), 115200, AtParser(), lambda _u: None, connector=PORTS)
    try:
        async with running(fast_config(str(sim.link), command_timeout=0.3), ready=False) as modem:
            await asyncio.wait_for(_until(lambda: "busy" in (modem.last_error or "")), 5)
            assert modem.state == ModemState.CONNECTING
            with pytest.raises(ModemUnavailable):  # not ready within the operation's timeout
                await modem.read("SM", 1)
    finally:
        await other.close()


async def _until(pred: Callable[[], bool]) -> None:
    while not pred():
        await asyncio.sleep(0.02)


async def test_pin_entered(sim_factory: SimFactory) -> None:
    async with sim_factory(pin="1234") as sim, running(fast_config(str(sim.link), pin="1234")) as modem:
        assert sim.e.pin_state == "READY"
        assert modem.info.imsi == "001010123456789"


async def test_wrong_pin_fails_once_and_never_retries(sim_factory: SimFactory) -> None:
    async with sim_factory(pin="1234") as sim, \
            running(fast_config(str(sim.link), pin="9999"), ready=False) as modem:
        ev = await wait_state(modem, ModemState.FAILED, timeout=10)
        assert "PIN" in ev.reason
        assert sim.e.pin_tries == 2  # exactly one wrong attempt
        with pytest.raises(ModemUnavailable):
            await modem.read("SM", 1)
        sim.restart()  # even if the modem restarts, the wrong PIN is not tried again
        await asyncio.sleep(0.3)
        assert sim.e.pin_tries == 2 and modem.state == ModemState.FAILED


async def test_pin_missing_fails(sim_factory: SimFactory) -> None:
    async with sim_factory(pin="1234") as sim, running(fast_config(str(sim.link)), ready=False) as modem:
        ev = await wait_state(modem, ModemState.FAILED, timeout=10)
        assert "no pin is configured" in ev.reason
        assert sim.e.pin_tries == 3


async def test_cnmi_fallback(sim: SimModem) -> None:
    from modembridge.sim.atline import Command
    from modembridge.sim.results import CmsError as SimCmsError

    original = sim.e.commands.table["+CNMI"]

    def picky(cmd: Command, info: list[str]) -> str | None:
        if cmd.kind == "test":
            info.append("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")  # claims ds=1 ...
            return "OK"
        if cmd.kind == "set" and cmd.arg(3) in ("1", "2"):
            raise SimCmsError(303)  # ... but refuses it, and ds=2 too
        return original(cmd, info)

    sim.e.commands.table["+CNMI"] = picky
    async with running(fast_config(str(sim.link))) as modem:
        assert modem.cnmi == (2, 1, 0, 0, 0)
        assert sim.status()["cnmi"] == [2, 1, 0, 0, 0]
        rx = sim.traffic_bytes("rx").decode()
        assert rx.index("AT+CNMI=2,1,2,1,0") < rx.index("AT+CNMI=2,1,2,2,0") < rx.index("AT+CNMI=2,1,0,0,0")


async def test_stop_lets_the_exchange_finish(sim_factory: SimFactory) -> None:
    async with sim_factory(send_delay=0.5) as sim, running(fast_config(str(sim.link))) as modem:
        sender = asyncio.create_task(modem.send(*submit()))
        await sim.wait_traffic(b"\x1a", "rx")
        queued = asyncio.create_task(modem.send(*submit(text="queued")))
        await asyncio.sleep(0)
        await modem.stop()
        assert await sender >= 0  # answered before the port closed
        with pytest.raises(ModemUnavailable):  # not started once stopping
            await queued
        assert [r["text"] for r in sim.submitted()] == ["hi there"]
        assert modem.state == ModemState.STOPPED


async def test_a_slot_freed_elsewhere_can_be_announced_again(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), **STORED)) as modem:
        await sim.inject_text("+254700000001", "first")
        ev = await next_event(modem, MessageStored)
        sim.e.storage.delete("SM", ev.index)  # gone without our delete() (another tool, a modem reset ...)
        assert await modem.list_stored() == []
        await sim.inject_text("+254700000001", "second")
        again = await next_event(modem, MessageStored)
        assert again.index == ev.index


async def test_registration_changes_are_followed(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), health_interval=0.1)) as modem:
        sim.set_registration(5)
        await asyncio.wait_for(_until(lambda: modem.registration == "roaming"), 5)
        sim.set_registration(3)
        await asyncio.wait_for(_until(lambda: modem.registration == "denied"), 5)
        assert modem.snapshot().registration == "denied"


async def test_waiting_operations_end_on_stop(tmp_path: Any) -> None:
    async with running(fast_config(str(tmp_path / "absent"), command_timeout=30.0), ready=False) as modem:
        reader = asyncio.create_task(modem.read("SM", 1))
        await asyncio.wait_for(_until(lambda: modem.state == ModemState.CONNECTING), 5)
        await modem.stop()
        with pytest.raises(ModemUnavailable, match="stopping"):
            await asyncio.wait_for(reader, 2)  # long before its 30 s timeout


@pytest.mark.parametrize(("profile", "settle"), [("sim800", 0.5), ("generic", 0.0)])
async def test_after_a_restart_banner_the_profile_s_boot_settle_passes_before_the_next_command(
        sim_factory: SimFactory, profile: str, settle: float) -> None:
    """SIMCom modules ignore what they hear right after their boot banner: the driver waits the profile's
    boot_settle (counted from the banner) before it speaks again."""
    assert get_profile(profile).boot_settle == settle
    async with sim_factory(profile=profile) as sim, \
            running(fast_config(str(sim.link), ping_interval=60.0)) as modem:
        sim.clear_traffic()
        sim.restart()
        await wait_state(modem, ModemState.INITIALIZING, timeout=10)
        await wait_state(modem, ModemState.READY, timeout=10)
        traffic = list(sim.e.traffic)
        banner = next(t.t for t in traffic if t.direction == "tx" and b"RDY" in t.data)
        spoken = next(t.t for t in traffic if t.direction == "rx" and t.t >= banner)
        assert spoken - banner >= settle
        if not settle:
            assert spoken - banner < 0.2  # no profile delay: re-initialised at once
