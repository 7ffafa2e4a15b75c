"""Delivery reports at scale and over time, over a real pty: references that wrap after 256 parts, reports
late and out of order (and after a restart), multipart messages, temporary statuses."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from modembridge.bridge import Bridge
from modembridge.bridge.reports import message_report_due
from modembridge.config import DlrConfig
from modembridge.http import HttpTransport
from modembridge.http.callbacks import CallbackPolicy
from modembridge.http.client import DlrClient, RouterClient
from modembridge.model import DlrStatus, SendRequest
from modembridge.observe import Metrics
from modembridge.sms import decode_pdu, encode_status_report
from modembridge.store import PartProgress

from .conftest import FAST_RETRY, Stack, wait_until

LONG = "a long message in three parts, each of them reported on by the network on its own. " * 5


def parts_of(stack: Stack, message_id: str) -> list[Any]:
    view = stack.store.views.outbound(message_id)
    assert view is not None
    return [p for r in view.recipients for p in r.parts]


async def send(stack: Stack, to: str, text: str, mask: int = 1 | 2 | 4 | 8 | 16) -> str:
    dlr_url = f"{stack.router.url}/dlr?type=%d&to=%p&ref=%F"
    accepted = await stack.bridge.submit(SendRequest(recipients=(to,), text=text, status_report=True,
                                                     dlr_url=dlr_url, dlr_mask=mask))
    return accepted.message_id


@pytest.mark.slow
async def test_more_than_256_sends_with_reports_late_and_shuffled_all_match_their_part(
    make_stack: Any,
) -> None:
    """TP-MR wraps after 256 parts: parts 256 apart share a reference and differ only by recipient."""
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.0})
    await stack.wait_ready()
    stack.sim.hold_reports()
    recipients = ["+254711000101", "+254711000102", "+254711000103"]
    ids = [await send(stack, recipients[i % 3], f"message {i}", mask=1) for i in range(300)]
    await stack.sim.wait_submitted(300, timeout=60)
    await wait_until(lambda: all(parts_of(stack, m)[0].state == "sent" for m in ids), timeout=30)
    mrs = [parts_of(stack, m)[0].mr for m in ids]
    assert len(set(mrs)) == 256  # the reference wrapped
    assert stack.sim.release_reports("shuffle") == 300
    await wait_until(lambda: stack.store.views.counts().inbound.get("unmatched", 0) == 0 and all(
        parts_of(stack, m)[0].dlr.state == "delivered" for m in ids), timeout=60)
    for m, mr in zip(ids, mrs, strict=True):
        part = stack.store.reports._db.execute(
            "SELECT p.dlr_raw, r.number FROM out_part p JOIN out_recipient r ON r.id = p.recipient"
            " JOIN out_message o ON o.id = p.message WHERE o.message_id = ?", (m,)).fetchone()
        report = decode_pdu(part["dlr_raw"])
        assert (report.mr, report.recipient) == (mr, part["number"])  # type: ignore[union-attr]
    await stack.router.wait(lambda: len(stack.router.dlrs) == 300, timeout=30)
    assert Counter(d["type"] for d in stack.router.dlrs) == {"1": 300}


async def test_a_report_for_a_part_sent_before_a_restart_still_matches(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.0})
    await stack.wait_ready()
    stack.sim.hold_reports()
    message_id = await send(stack, "+254711000104", "before the restart", mask=1)
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: parts_of(stack, message_id)[0].state == "sent")
    await stack.bridge.stop()
    async with HttpTransport() as http:
        metrics = Metrics()
        bridge = Bridge(stack.config, stack.store,
                        router=RouterClient(stack.config.router, http, metrics).deliver,
                        dlr=DlrClient(stack.config.dlr, http, metrics,
                                      policy=CallbackPolicy.from_config(stack.config)).call, metrics=metrics)
        await bridge.start()
        try:
            await wait_until(lambda: bool(bridge.readiness()[0]))
            stack.sim.release_reports()
            await stack.router.wait(lambda: [d["type"] for d in stack.router.dlrs] == ["1"])
            assert parts_of(stack, message_id)[0].dlr.state == "delivered"
        finally:
            await bridge.stop()


async def test_a_report_matching_nothing_is_kept_counted_and_in_the_status(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    stack.sim.inject_pdu(encode_status_report(mr=77, recipient="+254711000105", scts=t0, discharge_time=t0,
                                              status=0).hex, kind="report")
    await wait_until(lambda: stack.store.views.counts().inbound["unmatched"] == 1)
    status = stack.bridge.status()
    assert status.counters["dlr_unmatched"] == 1
    assert status.queues.journal.inbound["unmatched"] == 1
    assert 'modembridge_dlr_unmatched_total{modem="gsm0"} 1.0' in stack.bridge.metrics.render().decode()


@pytest.mark.parametrize("multipart", ["message", "part"])
async def test_a_multipart_message_calls_back_per_message_by_default(make_stack: Any, multipart: str) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.02},
                                    dlr=DlrConfig(retry=FAST_RETRY, multipart=multipart))  # type: ignore[arg-type]
    await stack.wait_ready()
    message_id = await send(stack, "+254711000106", LONG)
    await wait_until(lambda: all(p.dlr.state == "delivered" for p in parts_of(stack, message_id)))
    view = stack.store.views.outbound(message_id)
    assert view is not None and len(view.recipients[0].parts) == 3
    assert view.delivery == view.recipients[0].delivery == "delivered"
    want = {"8": 1, "1": 1} if multipart == "message" else {"8": 3, "1": 3}
    await stack.router.wait(lambda: Counter(d["type"] for d in stack.router.dlrs) == want)
    # every report is recorded and every callback it made is done: the count is final
    await wait_until(lambda: stack.store.reports.next_callback_due_at() is None)
    assert Counter(d["type"] for d in stack.router.dlrs) == want
    types = [d["type"] for d in stack.router.dlrs]
    assert types.index("8") < types.index("1")


async def test_a_multipart_message_with_a_failed_part_is_failed_once(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.0})
    await stack.wait_ready()
    stack.sim.hold_reports()
    message_id = await send(stack, "+254711000107", LONG)
    await stack.sim.wait_submitted(3)
    await wait_until(lambda: all(p.state == "sent" for p in parts_of(stack, message_id)))
    stack.sim.release_reports()
    await wait_until(lambda: all(p.dlr.state == "delivered" for p in parts_of(stack, message_id)))
    # a late failure report for part 2 (same reference): delivered parts 1 and 3 do not make it delivered
    part2 = parts_of(stack, message_id)[1]
    now = datetime.now(UTC)
    stack.sim.inject_pdu(encode_status_report(mr=part2.mr, recipient="+254711000107", scts=now,
                                              discharge_time=now, status=0x41).hex, kind="report")
    await wait_until(lambda: parts_of(stack, message_id)[1].dlr.state == "delivered")  # final stays final
    view = stack.store.views.outbound(message_id)
    assert view is not None and view.delivery == "delivered"


async def test_a_temporary_status_is_intermediate_and_the_final_report_updates_it(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.0})
    await stack.wait_ready()
    stack.sim.set_unreachable("+254711000108", 0x30)  # 23.040: temporary error, SC still trying
    message_id = await send(stack, "+254711000108", "try later")
    await wait_until(lambda: parts_of(stack, message_id)[0].dlr.state == "pending")
    view = stack.store.views.outbound(message_id)
    assert view is not None and view.delivery == "pending"
    await stack.router.wait(lambda: "4" in [d["type"] for d in stack.router.dlrs])
    mr = parts_of(stack, message_id)[0].mr
    now = datetime.now(UTC)
    stack.sim.inject_pdu(encode_status_report(mr=mr, recipient="+254711000108", scts=now, discharge_time=now,
                                              status=0x00).hex, kind="report")
    await wait_until(lambda: parts_of(stack, message_id)[0].dlr.state == "delivered")
    await stack.router.wait(lambda: sorted(d["type"] for d in stack.router.dlrs) == ["1", "4", "8"])


def _p(seq: int, state: str = "sent", dlr: str | None = None) -> PartProgress:
    return PartProgress(seq, state, dlr)


@pytest.mark.parametrize(("kind", "before", "parts", "due"), [
    (DlrStatus.SMSC_ACK, None, [_p(1), _p(2, "queued")], False),
    (DlrStatus.SMSC_ACK, None, [_p(1), _p(2)], True),
    (DlrStatus.SMSC_REJECT, None, [_p(1, "failed"), _p(2, "queued")], True),
    (DlrStatus.SMSC_REJECT, None, [_p(1, "failed"), _p(2, "failed")], False),
    (DlrStatus.DELIVERED, None, [_p(1, dlr="delivered"), _p(2, dlr="pending")], False),
    (DlrStatus.DELIVERED, "pending", [_p(1, dlr="delivered"), _p(2, dlr="delivered")], True),
    (DlrStatus.DELIVERED, "delivered", [_p(1, dlr="delivered"), _p(2, dlr="delivered")], False),
    (DlrStatus.FAILED, None, [_p(1, dlr="failed"), _p(2, dlr="delivered")], True),
    (DlrStatus.FAILED, None, [_p(1, dlr="failed"), _p(2, dlr="failed")], False),
    (DlrStatus.BUFFERED, None, [_p(1, dlr="pending"), _p(2)], True),
    (DlrStatus.BUFFERED, None, [_p(1, dlr="pending"), _p(2, dlr="pending")], False),
    (DlrStatus.BUFFERED, "pending", [_p(1, dlr="pending"), _p(2)], False),
])
def test_when_a_message_gets_its_one_callback(kind: DlrStatus, before: str | None, parts: list[PartProgress],
                                             due: bool) -> None:
    assert message_report_due(kind, before, parts) is due


def test_replace_keeps_the_config_type() -> None:  # the parametrized stack above builds DlrConfig this way
    assert replace(DlrConfig(), multipart="part").multipart == "part"
