"""Inbound pipeline: part -> decode -> commit -> delete from SIM -> reassemble -> router, with retries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from modembridge.at.events import SweepNeeded
from modembridge.sms import encode_deliver

from .conftest import Stack, inbound_state, wait_until


def sim_used(stack: Stack, mem: str = "SM") -> int:
    return len(stack.sim.storage()["memories"].get(mem, []))


async def test_single_part_reaches_the_router_and_leaves_the_sim(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    await stack.sim.inject_text("+254700000001", "hello router")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    req = stack.router.delivered()[0]
    assert (req["sender"], req["text"]) == ("+254700000001", "hello router")
    view = stack.bridge.message(req["message_id"])
    assert view is not None and view.direction == "in"
    await wait_until(lambda: inbound_state(stack.store, req["message_id"]) == "delivered")
    await wait_until(lambda: sim_used(stack) == 0)


async def test_concatenated_parts_out_of_order_and_twice_are_delivered_once_whole(
    make_stack: Any,
) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    text = "".join(f"part of a long message {i:03d} " for i in range(12))  # > 2 parts in GSM 7-bit
    pdus = encode_deliver(
        "+254700000002", text, timestamp=datetime(2026, 11, 28, 9, 0, tzinfo=UTC), concat_ref=77
    )
    assert len(pdus) >= 3
    order = [pdus[2], pdus[0], pdus[0], *pdus[3:], pdus[1]]  # out of order, the first one twice
    for pdu in order:
        stack.sim.inject_pdu(pdu.hex)
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == text
    await wait_until(lambda: sim_used(stack) == 0)
    # nothing more arrives: a second copy of a part does not make a second message
    assert len(stack.router.requests) == 1


async def test_undecodable_part_is_kept_visible_and_its_slot_freed(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    broken = "0791527400000000040C9152740000000400001162"  # DELIVER cut short inside the time stamp
    stack.sim.inject_pdu(broken)
    await stack.sim.inject_text("+254700000003", "after the broken one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == "after the broken one"
    await wait_until(lambda: sim_used(stack) == 0)
    undecodable = [
        m
        for m in stack.store.views.recent(direction="in", state=None, limit=10)
        if m.state not in ("delivered", "received")
    ]
    assert len(undecodable) == 1
    view = stack.store.views.inbound(undecodable[0].id)
    assert view is not None
    assert view.parts[0].pdu.upper() == broken and view.parts[0].error


async def test_router_errors_are_retried_and_4xx_is_rejected_not_retried(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    stack.router.statuses["+254700000004"] = [500, 503]
    stack.router.statuses["+254700000005"] = [400]
    await stack.wait_ready()
    await stack.sim.inject_text("+254700000004", "try again")
    await stack.sim.inject_text("+254700000005", "bad one")
    await stack.router.wait(lambda: any(r["sender"] == "+254700000004" for r in stack.router.delivered()))
    tries = [r["status"] for r in stack.router.requests if r["sender"] == "+254700000004"]
    assert tries == [500, 503, 200]
    rejected = [r for r in stack.router.requests if r["sender"] == "+254700000005"]
    assert [r["status"] for r in rejected] == [400]
    mid = rejected[0]["message_id"]
    await wait_until(lambda: inbound_state(stack.store, mid) == "rejected")
    # the same message id is used on every retry, so the site can dedupe
    assert len({r["message_id"] for r in stack.router.requests if r["sender"] == "+254700000004"}) == 1


async def test_order_per_sender_is_kept_while_other_senders_flow(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    stack.router.statuses["+254700000006"] = [500, 500, 500]
    await stack.wait_ready()
    await stack.sim.inject_text("+254700000006", "first")
    await stack.router.wait(lambda: len(stack.router.requests) >= 1)
    await stack.sim.inject_text("+254700000006", "second")
    await stack.sim.inject_text("+254700000007", "other sender")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 3)
    texts = [r["text"] for r in stack.router.delivered()]
    assert texts.index("first") < texts.index("second")
    attempts_of_second = [r for r in stack.router.requests if r["text"] == "second"]
    assert len(attempts_of_second) == 1  # never sent before "first" got through


async def test_incomplete_message_is_delivered_after_the_reassembly_timeout(make_stack: Any) -> None:
    stack: Stack = await make_stack(reassembly_timeout=0.3)
    await stack.wait_ready()
    text = "x" * 400
    pdus = encode_deliver(
        "+254700000008", text, timestamp=datetime(2026, 11, 28, 9, 0, tzinfo=UTC), concat_ref=9
    )
    stack.sim.inject_pdu(pdus[0].hex)
    stack.sim.inject_pdu(pdus[2].hex)
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1, timeout=15)
    got = stack.router.delivered()[0]
    view = stack.store.views.inbound(got["message_id"])
    assert view is not None and view.incomplete and view.parts_received == 2
    assert got["text"] == "x" * (len(text) - 153)  # what arrived, without the missing middle part


async def test_router_down_messages_are_journalled_and_the_sim_emptied(
    make_stack: Any,
) -> None:
    stack: Stack = await make_stack()
    sender = "+254700000009"
    stack.router.statuses[sender] = [503] * 12  # longer than the order hold limit (5 failures)
    await stack.wait_ready()
    for i in range(5):
        await stack.sim.inject_text(sender, f"queued {i}")
    await wait_until(lambda: sim_used(stack) == 0 and stack.store.views.counts().inbound["received"] >= 1)
    await stack.router.wait(lambda: len(stack.router.delivered()) == 5)
    assert [r["text"] for r in stack.router.delivered()] == [f"queued {i}" for i in range(5)]


async def test_more_messages_than_the_sim_holds_flow_through_without_waiting_for_a_sweep(
    make_stack: Any,
) -> None:
    # The network holds what does not fit; each CMGD frees a slot that the next message takes at once,
    # announced with a +CMTI for a slot number seen before. Stack sweeps are 60 s apart: no help there.
    stack: Stack = await make_stack(sim_kw={"capacity": {"SM": 3}})
    await stack.wait_ready()
    for i in range(20):
        await stack.sim.inject_text("+254700000010", f"overflow {i}")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 20, timeout=10)
    assert [r["text"] for r in stack.router.delivered()] == [f"overflow {i}" for i in range(20)]


async def test_direct_indication_journals_then_acknowledges_each_cmt(make_stack: Any) -> None:
    """indication = "direct": +CMT carries the PDU (no AT+CMGR), +CNMA only after the journal has it."""
    stack: Stack = await make_stack(indication="direct")
    await stack.wait_ready()
    assert stack.bridge.modems["gsm0"].cnmi == (2, 2, 0, 1, 0)
    text = "".join(f"direct {i:03d} " for i in range(30))  # 3 parts
    await stack.sim.inject_text("+254700000011", "direct one")
    await stack.sim.inject_text("+254700000011", text)
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    assert [r["text"] for r in stack.router.delivered()] == ["direct one", text]

    def count(prefix: str) -> int:
        return sum(t["data"].startswith(prefix) for t in stack.sim.traffic())

    await wait_until(lambda: count("AT+CNMA") == 4)  # one ack per part, after the router may have it
    assert count("\r\n+CMT:") == 4 and count("AT+CMGR") == 0
    assert sim_used(stack) == 0  # nothing was stored on the SIM


async def test_an_answer_that_beats_the_journal_write_is_recorded_once_written(make_stack: Any) -> None:
    """The fast path posts a new single-part SMS before its rows are written. Here the router answers
    before the pipeline writes them: the answer must wait for the rows and be recorded then, not be lost
    (the message would go to the router a second time)."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    loop = stack.bridge.router_loop
    assert loop is not None
    answered = asyncio.Event()
    deliver = loop.queue.deliver

    async def noting_deliver(message: Any) -> Any:
        result = await deliver(message)
        answered.set()
        return result

    inbound = stack.bridge.events["gsm0"].inbound
    head_start = inbound._deliver_before_journal

    async def long_head_start(message: Any, written: Any) -> bool:
        taken = await head_start(message, written)
        assert taken
        await asyncio.wait_for(answered.wait(), 5.0)  # the answer is in before the rows are written
        return taken

    loop.queue.deliver = noting_deliver
    inbound._deliver_before_journal = long_head_start  # type: ignore[method-assign]
    await stack.sim.inject_text("+254700000031", "answered early")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    message_id = stack.router.delivered()[0]["message_id"]
    await wait_until(lambda: inbound_state(stack.store, message_id) == "delivered")
    await wait_until(lambda: sim_used(stack) == 0)
    assert answered.is_set() and len(stack.router.requests) == 1


async def test_a_reader_stopped_in_the_head_start_leaves_no_delivery_waiting(make_stack: Any) -> None:
    """The reader is stopped (cancelled) after it handed an SMS to the router and before it wrote the rows:
    the delivery must not wait for those rows for ever (it would hold its slot and the shutdown's drain);
    its answer is dropped and the SMS, still on the SIM, comes again."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    loop = stack.bridge.router_loop
    assert loop is not None
    inbound = stack.bridge.events["gsm0"].inbound
    head_start = inbound._deliver_before_journal
    stopped = asyncio.Event()

    async def stopped_in_the_head_start(message: Any, written: Any) -> bool:
        await head_start(message, written)
        if not stopped.is_set():
            stopped.set()
            raise asyncio.CancelledError  # as when the daemon stops the reader here
        return True

    inbound._deliver_before_journal = stopped_in_the_head_start  # type: ignore[method-assign]
    await stack.sim.inject_text("+254700000032", "stopped early")
    await asyncio.wait_for(stopped.wait(), 5.0)
    await wait_until(lambda: not loop._tasks)  # the early delivery finished, its answer dropped
    await stack.router.wait(lambda: len(stack.router.delivered()) >= 1)
    message_id = stack.router.delivered()[0]["message_id"]
    # the SMS stayed on the SIM; the next sweep reads it again, under the same id
    await stack.bridge.events["gsm0"].handle(SweepNeeded("test"))
    await wait_until(lambda: inbound_state(stack.store, message_id) == "delivered")
    await wait_until(lambda: sim_used(stack) == 0)
