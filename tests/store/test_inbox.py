"""Inbox: idempotent part journalling, reassembly grouping, order per sender, retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from modembridge.config import RetryPolicy
from modembridge.store import Store, UnknownMessageError

from .helpers import add_part, fake_pdu


def test_single_part_is_deliverable_at_once(store: Store) -> None:
    r = add_part(store, "+254711000001", "hello", now=100.0, smsc_time=90.0)
    assert (r.duplicate, r.complete) == (False, True)
    [m] = store.inbox.due(100.0, 10)
    assert m.message_id == r.message_id and len(m.message_id) == 32
    assert (m.sender, m.text, m.modem_id, m.parts, m.total_parts, m.incomplete) == (
        "+254711000001",
        "hello",
        "gsm0",
        1,
        1,
        False,
    )
    assert m.received_at == datetime.fromtimestamp(100.0, UTC)
    assert m.smsc_timestamp == datetime.fromtimestamp(90.0, UTC)
    assert m.smsc == "+254722500029" and m.encoding == "gsm7"


def test_same_pdu_again_is_a_duplicate_and_writes_nothing(store: Store) -> None:
    first = add_part(store, "+1", "hi", now=1.0, pdu="0791AB")
    again = add_part(store, "+1", "hi", now=5.0, pdu="0791ab")  # re-read after a crash before CMGD
    assert again.duplicate and again.complete
    assert (again.part_id, again.message_id) == (first.part_id, first.message_id)
    assert store.views.counts().inbound["received"] == 1
    assert len(store.inbox.due(10.0, 10)) == 1
    # the same PDU from another modem is another message
    other = add_part(store, "+1", "hi", now=5.0, pdu="0791AB", modem="gsm1")
    assert not other.duplicate and other.message_id != first.message_id


def test_undecodable_part_is_kept_visible_and_never_delivered(store: Store) -> None:
    r = store.inbox.add_part(
        modem_id="gsm0",
        mem="ME",
        index=7,
        pdu="07FFFF",
        received_at=3.0,
        part=None,
        error="truncated user data",
    )
    assert not r.duplicate and not r.complete
    assert store.inbox.due(1e9, 10) == [] and store.inbox.next_due_at() is None
    view = store.views.inbound(r.message_id)
    assert view is not None and view.state == "undecodable"
    assert view.parts[0].pdu == "07FFFF" and view.parts[0].error == "truncated user data"
    assert (view.parts[0].mem, view.parts[0].index) == ("ME", 7)
    assert store.views.counts().inbound["undecodable"] == 1
    assert store.inbox.add_part(
        modem_id="gsm0", mem="ME", index=7, pdu="07FFFF", received_at=4.0, part=None, error="again"
    ).duplicate


def test_concatenated_parts_out_of_order_join_in_seq_order(store: Store) -> None:
    r3 = add_part(store, "+2", "three", now=1.0, concat=(42, 3, 3))
    r1 = add_part(store, "+2", "one ", now=2.0, concat=(42, 3, 1), smsc_time=50.0)
    assert not r3.complete and not r1.complete and r1.message_id == r3.message_id
    assert store.inbox.due(10.0, 10) == []
    assert store.views.counts().inbound["assembling"] == 1
    r2 = add_part(store, "+2", "two ", now=3.0, concat=(42, 3, 2))
    assert r2.complete and r2.message_id == r1.message_id
    [m] = store.inbox.due(10.0, 10)
    assert (m.text, m.parts, m.total_parts, m.incomplete) == ("one two three", 3, 3, False)
    assert m.received_at == datetime.fromtimestamp(3.0, UTC)  # when the last part arrived
    assert m.smsc_timestamp == datetime.fromtimestamp(50.0, UTC)  # of part 1


def test_plain_tuple_concat_key_is_accepted(store: Store) -> None:
    from modembridge.store import PartFields

    for seq, text in ((1, "a"), (2, "b")):
        r = store.inbox.add_part(
            modem_id="gsm0",
            mem="SM",
            index=seq,
            pdu=fake_pdu(seq),
            received_at=1.0,
            part=PartFields(sender="+5", text=text, encoding="gsm7", concat=(9, 2, seq, 16)),
            error=None,
        )
    store.commit_now()
    assert r.complete and store.inbox.due(2.0, 5)[0].text == "ab"


def test_duplicate_parts_within_a_group(store: Store) -> None:
    a = add_part(store, "+3", "A", now=1.0, concat=(7, 2, 1), pdu="AA01")
    same_pdu = add_part(store, "+3", "A", now=2.0, concat=(7, 2, 1), pdu="AA01")
    same_text = add_part(store, "+3", "A", now=2.0, concat=(7, 2, 1), pdu="AA02")  # network resent, new SCTS
    assert same_pdu.duplicate and same_text.duplicate and not same_text.complete
    assert same_text.message_id == a.message_id
    b = add_part(store, "+3", "B", now=3.0, concat=(7, 2, 2))
    assert b.complete and not b.duplicate
    [m] = store.inbox.due(5.0, 5)
    assert (m.text, m.parts) == ("AB", 2)
    view = store.views.inbound(m.message_id)
    assert view is not None and len(view.parts) == 3 and view.parts_received == 2


def test_reused_reference_with_different_content_starts_a_new_message(store: Store) -> None:
    first = add_part(store, "+4", "old", now=1.0, concat=(1, 2, 1))
    second = add_part(store, "+4", "new", now=2.0, concat=(1, 2, 1))
    assert not second.duplicate and second.message_id != first.message_id
    done = add_part(store, "+4", "!", now=3.0, concat=(1, 2, 2))
    assert done.complete and done.message_id == first.message_id  # the oldest group takes the free seq


@pytest.mark.parametrize(
    "other",
    [
        {"sender": "+6"},
        {"modem": "gsm1"},
        {"ref_bits": 16},
        {"concat": (5, 3, 2)},
        {"concat": (6, 2, 2)},
    ],
)
def test_grouping_key_is_modem_sender_ref_total_bits(store: Store, other: dict[str, Any]) -> None:
    first = add_part(store, "+5", "x", now=1.0, concat=(5, 2, 1))
    kw: dict[str, Any] = {"sender": "+5", "concat": (5, 2, 2), "modem": "gsm0", "ref_bits": 8} | other
    r = add_part(
        store, kw["sender"], "y", now=2.0, modem=kw["modem"], concat=kw["concat"], ref_bits=kw["ref_bits"]
    )
    assert r.message_id != first.message_id and not r.complete


def test_expire_incomplete_delivers_what_arrived(store: Store) -> None:
    r = add_part(store, "+7", "one", now=100.0, concat=(3, 3, 1))
    add_part(store, "+7", "three", now=150.0, concat=(3, 3, 3))
    assert store.inbox.next_reassembly_deadline(600.0) == 700.0
    assert store.inbox.expire_incomplete(699.0, 600.0) == []
    assert store.inbox.expire_incomplete(700.0, 600.0) == [r.message_id]
    assert store.inbox.next_reassembly_deadline(600.0) is None
    store.commit_now()
    [m] = store.inbox.due(700.0, 10)
    assert (m.text, m.parts, m.total_parts, m.incomplete) == ("onethree", 2, 3, True)
    late = add_part(store, "+7", "two", now=800.0, concat=(3, 3, 2))  # too late: a new (incomplete) group
    assert late.message_id != r.message_id and not late.complete


def test_order_per_sender(store: Store) -> None:
    a1 = add_part(store, "+A", "a1", now=1.0)
    a2 = add_part(store, "+A", "a2", now=2.0)
    b1 = add_part(store, "+B", "b1", now=3.0)
    assert [m.message_id for m in store.inbox.due(10.0, 10)] == [a1.message_id, b1.message_id]
    store.inbox.mark_delivered(a1.message_id, 11.0)
    assert [m.message_id for m in store.inbox.due(11.0, 10)] == [a2.message_id, b1.message_id]


def test_older_message_in_backoff_holds_the_sender_until_the_hold_limit(store: Store) -> None:
    policy = RetryPolicy(initial=10.0, factor=1.0, cap=10.0)
    a1 = add_part(store, "+A", "a1", now=0.0)
    a2 = add_part(store, "+A", "a2", now=0.0)
    now = 0.0
    for attempt in range(1, 5):
        due = store.inbox.mark_retry(a1.message_id, now, "503", policy)
        assert due is not None and now <= due <= now + 10.0
        assert store.inbox.due(now, 10) == []  # a2 waits behind a1
        assert store.inbox.next_due_at() == pytest.approx(due)  # not a2's earlier time: no busy loop
        now = due
        assert [m.message_id for m in store.inbox.due(now, 10)] == [a1.message_id], attempt
    store.inbox.mark_retry(a1.message_id, now, "503", policy)  # the 5th failure: a1 stops blocking
    assert [m.message_id for m in store.inbox.due(now, 10)] == [a2.message_id]
    assert store.inbox.due(now, 10, order_hold_attempts=10) == []


def test_message_arriving_while_the_sender_is_held_waits_too(store: Store) -> None:
    a1 = add_part(store, "+A", "a1", now=0.0)
    due = store.inbox.mark_retry(
        a1.message_id, 0.0, "503", RetryPolicy(initial=100.0, factor=1.0, cap=100.0)
    )
    assert due is not None
    add_part(store, "+A", "a2", now=1.0)
    assert store.inbox.due(1.0, 10) == []
    assert store.inbox.next_due_at() == pytest.approx(due)


def test_exclude_skips_in_flight_but_they_still_block(store: Store) -> None:
    a1 = add_part(store, "+A", "a1", now=1.0)
    add_part(store, "+A", "a2", now=2.0)
    b1 = add_part(store, "+B", "b1", now=3.0)
    assert [m.message_id for m in store.inbox.due(5.0, 10, exclude={a1.message_id})] == [b1.message_id]
    assert len(store.inbox.due(5.0, 1, exclude={a1.message_id})) == 1


def test_retry_until_dead_and_operator_retry(store: Store) -> None:
    r = add_part(store, "+A", "x", now=0.0)
    policy = RetryPolicy(initial=1.0, factor=2.0, cap=8.0, max_attempts=3)
    assert store.inbox.mark_retry(r.message_id, 0.0, "500", policy) is not None
    assert store.inbox.mark_retry(r.message_id, 10.0, "500", policy) is not None
    assert store.inbox.mark_retry(r.message_id, 20.0, "500", policy) is None
    view = store.views.inbound(r.message_id)
    assert view is not None and (view.state, view.attempts, view.last_error) == ("dead", 3, "500")
    assert store.inbox.due(1e9, 10) == [] and store.inbox.next_due_at() is None
    assert store.inbox.retry(r.message_id, 30.0)
    store.commit_now()
    assert [m.message_id for m in store.inbox.due(30.0, 10)] == [r.message_id]
    assert not store.inbox.retry(r.message_id, 31.0)  # already received


def test_rejected_is_kept_and_not_retried(store: Store) -> None:
    r = add_part(store, "+A", "x", now=0.0)
    store.inbox.mark_rejected(r.message_id, 1.0, "400 empty text")
    assert store.inbox.due(1e9, 10) == []
    assert store.views.recent(direction="in", state="rejected", limit=5)[0].last_error == "400 empty text"
    assert store.inbox.retry(r.message_id, 2.0)
    store.commit_now()
    assert len(store.inbox.due(2.0, 10)) == 1


def test_backoff_bounds(store: Store) -> None:
    policy = RetryPolicy(initial=2.0, factor=3.0, cap=100.0)
    for attempts in range(1, 40):
        ceiling = min(100.0, 2.0 * 3.0 ** (attempts - 1))
        delays = [store.backoff(policy, attempts) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # full jitter spans the range
    assert store.backoff(RetryPolicy(initial=1.0, factor=10.0, cap=5.0), 10_000) <= 5.0  # no overflow


def test_mark_retry_returns_time_within_bounds(store: Store) -> None:
    policy = RetryPolicy(initial=4.0, factor=2.0, cap=20.0)
    r = add_part(store, "+A", "x", now=0.0)
    for attempt in range(1, 8):
        due = store.inbox.mark_retry(r.message_id, 1000.0, "e", policy)
        assert due is not None and 1000.0 <= due <= 1000.0 + min(20.0, 4.0 * 2 ** (attempt - 1))


def test_unknown_ids_raise(store: Store) -> None:
    with pytest.raises(UnknownMessageError):
        store.inbox.mark_delivered("nope", 1.0)
    with pytest.raises(UnknownMessageError):
        store.inbox.mark_retry("nope", 1.0, "x", RetryPolicy())
    assert store.views.inbound("nope") is None


def test_next_inbound_due_at(store: Store) -> None:
    assert store.inbox.next_due_at() is None
    add_part(store, "+A", "x", now=5.0)
    add_part(store, "+B", "y", now=3.0)
    assert store.inbox.next_due_at() == 3.0


def test_decoded_part_with_a_warning_is_still_delivered(store: Store) -> None:
    from modembridge.store import PartFields

    r = store.inbox.add_part(
        modem_id="gsm0",
        mem="SM",
        index=1,
        pdu="0A",
        received_at=1.0,
        part=PartFields(sender="+1", text="odd", encoding="gsm7"),
        error="reserved DCS bits",
    )
    store.commit_now()
    assert r.complete and [m.text for m in store.inbox.due(2.0, 5)] == ["odd"]
    view = store.views.inbound(r.message_id)
    assert view is not None and view.text == "odd" and view.parts[0].error == "reserved DCS bits"


def test_part_resent_after_completion_is_a_duplicate_within_the_window(store: Store) -> None:
    a = add_part(store, "+8", "one ", now=0.0, concat=(9, 2, 1))
    add_part(store, "+8", "two", now=1.0, concat=(9, 2, 2))
    store.inbox.mark_delivered(a.message_id, 2.0)
    again = add_part(store, "+8", "one ", now=60.0, concat=(9, 2, 1), pdu="FF01")  # new SCTS, same content
    assert (again.message_id, again.duplicate, again.complete) == (a.message_id, True, True)
    assert store.views.counts().inbound["assembling"] == 0
    other = add_part(store, "+8", "uno ", now=61.0, concat=(9, 2, 1))  # different content: a new message
    assert other.message_id != a.message_id and not other.duplicate
    late = add_part(store, "+8", "two", now=2 * 3600.0, concat=(9, 2, 2), pdu="FF02")
    assert late.message_id == other.message_id and late.complete  # an open group takes it first


def _fail_all_due(store: Store, now: float, policy: RetryPolicy, *, outage: bool) -> None:
    for m in store.inbox.due(now, 100):
        store.inbox.mark_retry(m.message_id, now, "connection refused", policy, count_hold=not outage)


def test_order_survives_a_long_router_outage(store: Store) -> None:
    policy = RetryPolicy(initial=1.0, factor=2.0, cap=60.0)
    a = [add_part(store, "+A", f"a{i}", now=0.0).message_id for i in range(4)]
    b = [add_part(store, "+B", f"b{i}", now=0.0).message_id for i in range(2)]
    now = 0.0
    while now < 3600.0:  # an hour down; the delivery loop reports the failures as an outage
        _fail_all_due(store, now, policy, outage=True)
        nxt = store.inbox.next_due_at()
        assert nxt is not None
        now = max(nxt, now + 1.0)
    now += 3600.0
    heads = store.inbox.due(now, 100)
    assert {m.message_id for m in heads} == {a[0], b[0]}  # only the heads were ever tried
    view = store.views.inbound(a[0])
    assert view is not None and view.attempts >= 10
    # the router is back: strictly in order per sender, from the first message on
    delivered: list[str] = []
    while batch := store.inbox.due(now, 100):
        assert len({m.sender for m in batch}) == len(batch)  # one message per sender at a time
        for m in batch:
            store.inbox.mark_delivered(m.message_id, now)
            delivered.append(m.message_id)
    assert [i for i in delivered if i in a] == a and [i for i in delivered if i in b] == b


def test_failures_that_are_not_an_outage_release_the_sender_after_the_hold_limit(store: Store) -> None:
    policy = RetryPolicy(initial=1.0, factor=1.0, cap=1.0)
    first = add_part(store, "+A", "first", now=0.0)
    second = add_part(store, "+A", "second", now=0.0)
    now = 0.0
    for _ in range(5):
        assert second.message_id not in {m.message_id for m in store.inbox.due(now + 10, 10)}
        _fail_all_due(store, now, policy, outage=False)
        now += 1.0
    due = {m.message_id for m in store.inbox.due(now + 10, 10)}
    assert {first.message_id, second.message_id} <= due


def test_a_poisoned_message_releases_its_sender_while_others_flow(store: Store) -> None:
    policy = RetryPolicy(initial=1.0, factor=1.0, cap=1.0)
    poison = add_part(store, "+A", "boom", now=0.0)
    after = add_part(store, "+A", "next", now=0.0)
    now = 0.0
    for i in range(5):
        other = add_part(store, f"+B{i}", "fine", now=now)
        due = {m.message_id for m in store.inbox.due(now, 10)}
        assert after.message_id not in due and {poison.message_id, other.message_id} <= due
        store.inbox.mark_retry(poison.message_id, now, "500", policy)
        store.inbox.mark_delivered(other.message_id, now)  # the router works: only this message fails
        now += 1.0
    assert after.message_id in {m.message_id for m in store.inbox.due(now, 10)}


def test_a_completed_message_carries_the_text_its_caller_set(store: Store) -> None:
    """The journal groups parts and runs no codec: the bridge decodes a whole message's PDUs together and
    sets its text (tests/bridge/test_reassembly.py); until it does, the parts' own texts are joined."""
    add_part(store, "+8", "ab\ufffd", now=1.0, concat=(4, 2, 1), pdu="AA01", commit=False)
    r = add_part(store, "+8", "\ufffdc", now=1.0, concat=(4, 2, 2), pdu="AA02", commit=False)
    assert r.complete and [p.pdu for p in store.inbox.parts_of(r.message_id)] == ["AA01", "AA02"]
    store.commit_now()
    assert [m.text for m in store.inbox.due(2.0, 5)] == ["ab\ufffd\ufffdc"]
    store.inbox.set_text(r.message_id, "ab\U0001f600c")
    store.commit_now()
    [m] = store.inbox.due(2.0, 5)
    assert m.text == "ab\U0001f600c"
    view = store.views.inbound(m.message_id)
    assert view is not None and view.text == m.text
    assert store.views.recent(direction="in", state=None, limit=1)[0].text == m.text
