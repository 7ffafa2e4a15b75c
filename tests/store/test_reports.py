"""Delivery reports: matching by modem + mr + recipient digits, recording, the callback journal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modembridge.config import RetryPolicy
from modembridge.model import DeliveryReportEvent, DlrStatus
from modembridge.store import Store, UnknownMessageError, same_number
from modembridge.store.journal import utc

from .helpers import send


def _sent(
    store: Store, number: str, mr: int, at: float, modem: str = "gsm0", **kw: object
) -> tuple[str, int]:
    mid = send(store, number, now=at, **kw)  # type: ignore[arg-type]
    p = store.outbox.claim_next_part(modem, at)
    assert p is not None and p.message_id == mid
    store.outbox.mark_sending(p.part_id, at)
    store.outbox.mark_sent(p.part_id, mr, at)
    return mid, p.part_id


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("+254712345678", "0712345678", True),
        ("+254712345678", "254712345678", True),
        ("+254712345678", "+254712345679", False),
        ("12345", "12345", True),
        ("12345", "+25412345", True),
        ("+254712345678", "", True),
    ],
)
def test_same_number(a: str, b: str, same: bool) -> None:
    assert same_number(a, b) is same


def test_match_latest_part_with_mr_on_that_modem(store: Store) -> None:
    _sent(store, "+254712345678", 5, 100.0, dlr_url="http://x/?s=%d", dlr_mask=3)
    new, new_part = _sent(store, "+254712345678", 5, 200.0, dlr_url="http://x/?s=%d", dlr_mask=3)
    _sent(store, "+254712345678", 5, 300.0, modem="gsm1")
    m = store.reports.match("gsm0", 5, "0712345678", 400.0)
    assert m is not None and (m.message_id, m.part_id, m.mr, m.modem_id) == (new, new_part, 5, "gsm0")
    assert (m.dlr_url, m.dlr_mask, m.seq, m.total, m.sent_at) == ("http://x/?s=%d", 3, 1, 1, 200.0)
    assert store.reports.match("gsm0", 6, "0712345678", 400.0) is None
    assert store.reports.match("gsm0", 5, "0799999999", 400.0) is None
    assert store.reports.match("gsm0", 5, "0712345678", 200.0 + 8 * 86400) is None  # outside the window


def test_record_status_report_does_not_regress_a_final_state(store: Store) -> None:
    mid, part = _sent(store, "+1", 9, 10.0)
    store.reports.record(part, status=0x30, final=False, now=11.0, raw_pdu="AA")
    assert store.views.outbound(mid).recipients[0].parts[0].dlr.state == "pending"
    store.reports.record(part, status=0x00, final=True, now=12.0, raw_pdu="BB")
    store.reports.record(part, status=0x30, final=False, now=13.0, raw_pdu="CC")  # late, out of order
    dlr = store.views.outbound(mid).recipients[0].parts[0].dlr
    assert (dlr.state, dlr.status, dlr.at) == ("delivered", 0, utc(12.0))
    store.reports.record(part, status=0x41, final=True, now=14.0, raw_pdu="DD")
    assert store.views.outbound(mid).recipients[0].parts[0].dlr.state == "failed"
    with pytest.raises(UnknownMessageError):
        store.reports.record(999, status=0, final=True, now=1.0, raw_pdu="")


def _event(n: int = 1) -> DeliveryReportEvent:
    return DeliveryReportEvent(
        url_template="http://site/dlr?id=%d",
        status=DlrStatus.DELIVERED,
        message_id=f"m{n}",
        recipient="+1",
        modem_id="gsm0",
        smsc_message_id="5",
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        reply="ok",
        part=1,
        parts=2,
    )


def test_dlr_callback_journal(store: Store) -> None:
    assert store.reports.next_callback_due_at() is None
    a = store.reports.add_callback(_event(1), 10.0)
    b = store.reports.add_callback(_event(2), 11.0)
    store.commit_now()  # handed out only once committed
    assert store.reports.next_callback_due_at() == 10.0
    due = store.reports.due_callbacks(10.5, 10)
    assert due == [(a, _event(1))]
    assert [i for i, _ in store.reports.due_callbacks(11.0, 10)] == [a, b]
    assert len(store.reports.due_callbacks(11.0, 1)) == 1
    store.reports.mark_callback(a, 12.0, done=True, detail="200", policy=RetryPolicy())
    policy = RetryPolicy(initial=5.0, factor=2.0, cap=60.0, max_attempts=2)
    store.reports.mark_callback(b, 12.0, done=False, detail="503", policy=policy)
    nxt = store.reports.next_callback_due_at()
    assert nxt is not None and 12.0 <= nxt <= 17.0
    assert store.reports.due_callbacks(11.9, 10) == []
    store.reports.mark_callback(b, 20.0, done=False, detail="503", policy=policy)  # second failure: dead
    assert store.reports.next_callback_due_at() is None and store.reports.due_callbacks(1e9, 10) == []
    with pytest.raises(UnknownMessageError):
        store.reports.mark_callback(99, 1.0, done=True, detail="", policy=policy)
