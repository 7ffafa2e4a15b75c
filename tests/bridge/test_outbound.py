"""Outbound pipeline: accepted request -> commit -> split/encode -> AT+CMGS per part -> state per part;
+CMS ERROR classes, expiry, the `unknown` policy, delivery reports and dlr-url callbacks."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from modembridge.config import OutboundConfig
from modembridge.model import SendRequest
from modembridge.sms import encode_status_report, encode_submit
from modembridge.store import Store

from .conftest import FAST_RETRY, Stack, wait_until


def part_states(stack: Stack, message_id: str) -> list[str]:
    view = stack.store.views.outbound(message_id)
    assert view is not None
    return [p.state for r in view.recipients for p in r.parts]


async def test_send_reaches_the_modem_with_the_right_destination_and_text(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000001",), text="hi there ✓"))
    assert (accepted.encoding, accepted.parts, accepted.duplicate) == ("ucs2", 1, False)
    [record] = await stack.sim.wait_submitted(1)
    assert (record["destination"], record["text"]) == ("+254711000001", "hi there ✓")
    await wait_until(lambda: part_states(stack, accepted.message_id) == ["sent"])
    view = stack.store.views.outbound(accepted.message_id)
    assert view is not None and view.recipients[0].parts[0].mr == record["mr"]


async def test_the_same_client_id_twice_sends_once(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    request = SendRequest(recipients=("+254711000002",), text="once", client_id="order-17")
    first = await stack.bridge.submit(request)
    second = await stack.bridge.submit(request)
    assert second.message_id == first.message_id and second.duplicate
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: part_states(stack, first.message_id) == ["sent"])
    assert len(stack.sim.submitted()) == 1


async def test_long_text_goes_as_concatenated_parts_of_one_reference(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    text = "A long message with {braces} and [brackets] " * 8  # extension-table chars, > 2 parts
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000003",), text=text))
    assert accepted.encoding == "gsm7" and accepted.parts >= 3
    records = await stack.sim.wait_submitted(accepted.parts)
    assert "".join(r["text"] for r in records) == text
    assert len({r["concat"]["ref"] for r in records}) == 1
    assert [r["concat"]["seq"] for r in records] == list(range(1, accepted.parts + 1))


async def test_cms_error_classes_retry_soon_or_fail_with_the_reason(make_stack: Any) -> None:
    stack: Stack = await make_stack(outbound=OutboundConfig(retry=FAST_RETRY))
    await stack.wait_ready()
    stack.sim.fail_sends(1, cms=42)  # network congestion: retry later (backoff)
    retried = await stack.bridge.submit(SendRequest(recipients=("+254711000004",), text="congested"))
    await wait_until(lambda: part_states(stack, retried.message_id) == ["sent"])
    view = stack.store.views.outbound(retried.message_id)
    assert view is not None and view.recipients[0].parts[0].attempts == 2
    stack.sim.fail_sends(1, cms=1)  # unassigned number: permanent
    failed = await stack.bridge.submit(SendRequest(recipients=("+254711000005",), text="nobody"))
    await wait_until(lambda: part_states(stack, failed.message_id) == ["failed"])
    view = stack.store.views.outbound(failed.message_id)
    assert view is not None and "CMS ERROR: 1" in (view.recipients[0].parts[0].error or "")
    assert [r["destination"] for r in stack.sim.submitted()] == ["+254711000004"]


async def test_a_message_not_sent_before_its_expiry_fails_instead_of_going_late(make_stack: Any) -> None:
    stack: Stack = await make_stack(outbound=OutboundConfig(retry=FAST_RETRY, expiry=0.3))
    await stack.wait_ready()
    stack.sim.fail_sends(1000, cms=42)
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254711000006",), text="too late"))
    await wait_until(lambda: part_states(stack, accepted.message_id) == ["failed"])
    view = stack.store.views.outbound(accepted.message_id)
    assert view is not None and "expire" in (view.recipients[0].parts[0].error or "")
    assert stack.sim.submitted() == []


def _interrupted_send(path: str) -> str:
    """Journal a send and leave its part `sending`, as a crash between AT+CMGS and +CMGS: would."""
    store = Store(path)
    [pdu] = encode_submit("+254711000007", "in flight")
    accepted = store.outbox.add(
        SendRequest(recipients=("+254711000007",), text="in flight"),
        {"+254711000007": [(pdu.hex, pdu.tpdu_length)]},
        encoding="gsm7",
        now=1.0,
        expires_at=None,
    )
    part = store.outbox.claim_next_part("gsm0", 1.0)
    assert part is not None
    store.outbox.mark_sending(part.part_id, 1.0)
    store.commit_now()
    store.close()
    return accepted.message_id


async def test_unknown_policy_fail_leaves_the_part_unknown_and_unsent(make_stack: Any, tmp_path: Any) -> None:
    message_id = _interrupted_send(str(tmp_path / "journal.db"))
    stack: Stack = await make_stack(outbound=OutboundConfig(retry=FAST_RETRY, unknown_policy="fail"))
    await stack.wait_ready()
    assert part_states(stack, message_id) == ["unknown"]
    probe = await stack.bridge.submit(SendRequest(recipients=("+254711000008",), text="after"))
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: part_states(stack, probe.message_id) == ["sent"])
    assert [r["destination"] for r in stack.sim.submitted()] == ["+254711000008"]


async def test_unknown_policy_resend_sends_it_again(make_stack: Any, tmp_path: Any) -> None:
    message_id = _interrupted_send(str(tmp_path / "journal.db"))
    stack: Stack = await make_stack(outbound=OutboundConfig(retry=FAST_RETRY, unknown_policy="resend"))
    [record] = await stack.sim.wait_submitted(1)
    assert record["destination"] == "+254711000007"
    await wait_until(lambda: part_states(stack, message_id) == ["sent"])


async def test_status_report_updates_the_part_and_calls_the_dlr_url(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    await stack.wait_ready()
    dlr_url = f"{stack.router.url}/dlr?status=%d&id=%I&to=%p&smsc=%i&msg=MYID"
    accepted = await stack.bridge.submit(
        SendRequest(recipients=("+254711000009",), text="report please", dlr_url=dlr_url, dlr_mask=1 | 2 | 8)
    )
    await stack.router.wait(lambda: any(d["status"] == "1" for d in stack.router.dlrs))
    statuses = [d["status"] for d in stack.router.dlrs]
    assert statuses.index("8") < statuses.index("1")  # SMSC ack first, then delivered
    delivered = next(d for d in stack.router.dlrs if d["status"] == "1")
    assert (delivered["to"], delivered["smsc"], delivered["msg"]) == ("+254711000009", "gsm0", "MYID")
    view = stack.store.views.outbound(accepted.message_id)
    assert view is not None
    assert view.recipients[0].parts[0].dlr.status == 0  # 23.040 TP-ST 0: received by the SME


async def test_unreachable_number_gives_a_failed_report(make_stack: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    await stack.wait_ready()
    stack.sim.set_unreachable("+254711000010")
    dlr_url = f"{stack.router.url}/dlr?status=%d&text=%A"
    await stack.bridge.submit(
        SendRequest(recipients=("+254711000010",), text="x", dlr_url=dlr_url, dlr_mask=3)
    )
    await stack.router.wait(lambda: len(stack.router.dlrs) == 1)
    assert stack.router.dlrs[0]["status"] == "2"
    assert urllib.parse.unquote(stack.router.dlrs[0]["text"])


async def test_a_status_report_that_matches_no_sent_part_is_kept_raw_and_its_slot_freed(
    make_stack: Any,
) -> None:
    """Found in review: an unmatched report was deleted from the SIM with nothing in the journal."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    report = encode_status_report(mr=201, recipient="+254711000011", scts=t0, discharge_time=t0, status=0)
    stack.sim.inject_pdu(report.hex, kind="report")
    await stack.sim.inject_text("+254700000012", "after the stray report")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    await wait_until(lambda: not stack.sim.storage()["memories"].get("SM"))
    [kept] = [m for m in stack.store.views.recent(direction="in", state=None, limit=10)
              if m.state not in ("delivered", "received")]
    view = stack.store.views.inbound(kept.id)
    assert view is not None and view.parts[0].pdu.upper() == report.hex.upper()
    assert "status report mr=201 matches no sent part" in (view.parts[0].error or "")


async def test_parts_waiting_for_a_modem_that_never_comes_back_expire(make_stack: Any) -> None:
    """Found in review: expiry ran only when a ready modem claimed a part, so a send pinned to a dead
    modem stayed queued forever. The housekeeping sweep fails it (and calls its failed-dlr)."""
    stack: Stack = await make_stack(
        outbound=OutboundConfig(retry=FAST_RETRY, expiry=0.2), reassembly_timeout=1.0
    )
    await stack.wait_ready()
    await stack.sim.vanish(60.0)  # unplugged, and not back before the test ends
    await wait_until(lambda: stack.bridge.modems["gsm0"].state.name != "READY")
    accepted = await stack.bridge.submit(
        SendRequest(recipients=("+254711000011",), text="stranded", modem="gsm0")
    )
    await wait_until(lambda: part_states(stack, accepted.message_id) == ["failed"], timeout=10)
    view = stack.store.views.outbound(accepted.message_id)
    assert view is not None and view.recipients[0].parts[0].error == "expired"
