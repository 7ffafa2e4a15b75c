"""indication = "direct" loses nothing: +CMT / +CDS are acknowledged (AT+CNMA) only after the consumer kept
them, and only the one the consumer kept; what the ME does when an acknowledgement does not come (27.005
3.4.4: with +CSMS=1 it turns routing off, mt=ds=0, and the message is stored unannounced) is repaired
(CNMI restored, a sweep); a consumer that falls behind gets new messages stored, then direct routing back.
"""

from __future__ import annotations

from collections.abc import Callable

from modembridge.at import MessageDirect, ModemState
from modembridge.at.quirks import CNMI_DIRECT
from modembridge.sim.harness import SimModem

from .collector import collecting
from .helpers import fast_config, next_event, running, wait_state

SENDER = "+254700000001"
DIRECT = list(CNMI_DIRECT[0])  # what the generic profile accepts first: +CMT, +CDS


def awaited_text(sim: SimModem) -> str | None:
    """The text of the +CMT the ME waits an AT+CNMA for (None: nothing waits)."""
    from modembridge.sms.pdu import Deliver, decode_pdu

    item = sim.e.network.awaiting
    if item is None:
        return None
    msg = decode_pdu(item.pdu, tpdu_length=item.length)
    assert isinstance(msg, Deliver)
    return msg.text


async def test_a_late_ack_never_acknowledges_the_next_cmt(sim_factory: Callable[..., SimModem]) -> None:
    """The ME gives up on an unacknowledged +CMT (routing off, stored unannounced); the health poll restores
    CNMI and the next +CMT arrives; the consumer's late ack for the first must not acknowledge the second,
    which nobody has kept yet (a crash then would lose it)."""
    async with sim_factory(cnma_timeout=2.0) as sim, \
            running(fast_config(str(sim.link), indication="direct", health_interval=0.5)) as modem:
        await sim.inject_text(SENDER, "first")
        first = await next_event(modem, MessageDirect)
        await sim.wait_for(lambda: sim.e.cnmi[1] == 0, 5)  # the ME gave up: routing off
        await sim.wait_for(lambda: sim.e.cnmi == DIRECT, 5)  # restored by the health poll
        await sim.inject_text(SENDER, "second")
        second = await next_event(modem, MessageDirect)
        assert second.seq != first.seq and awaited_text(sim) == "second"
        await modem.ack(first.seq)  # late, for a +CMT the ME no longer waits for
        assert awaited_text(sim) == "second"  # not acknowledged by it
        await modem.ack(second.seq)
        assert awaited_text(sim) is None
        stored = await modem.list_stored()  # the first, stored by the ME when it gave up
        assert [p.mem for p in stored] == ["SM"]
        assert sim.e.cnmi == DIRECT and modem.snapshot().cnmi == tuple(DIRECT)


async def test_a_consumer_that_falls_behind_gets_messages_stored_then_direct_again(
        sim_factory: Callable[..., SimModem]) -> None:
    """Nobody acknowledges (a journal stall): the driver refuses the +CMT before the ME's own timeout and
    routes new messages to storage (+CMTI) while the consumer is behind; once it acknowledges again, +CMT."""
    async with sim_factory(cnma_timeout=30.0) as sim, \
            running(fast_config(str(sim.link), indication="direct")) as modem, collecting(modem) as c:
        await sim.inject_text(SENDER, "before")
        await c.wait_texts({"before"})
        c.go.clear()
        during = [f"behind {i}" for i in range(3)]
        for text in during:
            await sim.inject_text(SENDER, text)
        await sim.wait_for(lambda: len(sim.e.storage.mems["SM"]) == 3, 15)  # stored, not held at the network
        assert sim.e.cnmi[1] == 1 and sim.e.network.awaiting is None  # +CMTI routing, nothing waits
        c.go.set()
        await c.wait_texts({"before", *during})
        await sim.wait_for(lambda: sim.e.cnmi == DIRECT and not sim.e.storage.mems["SM"], 10)
        assert modem.snapshot().cnmi == tuple(DIRECT)
        await sim.inject_text(SENDER, "after")
        await c.wait_texts({"after"})
        assert c.how[-1] == "direct"
        await sim.wait_delivered()


async def test_an_ack_from_before_a_modem_restart_does_not_acknowledge_a_newer_cmt(
        sim_factory: Callable[..., SimModem]) -> None:
    """A +CMT not yet acknowledged when the modem restarts (the ME forgets it: it comes again, or is stored);
    the consumer's ack for it, late, must not acknowledge a +CMT delivered after the re-initialisation."""
    async with sim_factory() as sim, \
            running(fast_config(str(sim.link), indication="direct")) as modem:
        await sim.inject_text(SENDER, "across a restart")
        old = await next_event(modem, MessageDirect)
        mark = modem.state
        sim.restart()
        await wait_state(modem, ModemState.INITIALIZING)
        await wait_state(modem, ModemState.READY, timeout=10)
        assert mark == ModemState.READY
        await sim.wait_for(lambda: sim.e.cnmi == DIRECT and sim.e.network.awaiting is None
                           and not sim.e.network.queue, 10)  # the copy: stored, or +CMT acknowledged below
        await sim.inject_text(SENDER, "new")
        new = await next_event(modem, MessageDirect, lambda e: e.seq != old.seq and "new" in awaited(sim))
        await modem.ack(old.seq)
        assert awaited_text(sim) == "new"
        await modem.ack(new.seq)
        assert awaited_text(sim) is None


def awaited(sim: SimModem) -> str:
    return awaited_text(sim) or ""
