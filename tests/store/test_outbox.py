"""Outbox: idempotent accepts, routing parts to modems, send states, expiry, crash recovery."""

from __future__ import annotations

import pytest

from modembridge.model import ClientIdConflict, SendRequest
from modembridge.store import Store, UnknownMessageError
from modembridge.store.journal import utc

from .helpers import send


def test_add_outbound_returns_accepted_and_is_idempotent_on_client_id(store: Store) -> None:
    req = SendRequest(recipients=("+1", "+2"), text="hi", client_id="abc")
    pdus = {"+1": [("AA", 10), ("BB", 11)], "+2": [("CC", 12), ("DD", 13)]}
    first = store.outbox.add(req, pdus, encoding="gsm7", now=1.0, expires_at=100.0)
    assert (first.recipients, first.encoding, first.parts, first.duplicate) == (
        ("+1", "+2"),
        "gsm7",
        2,
        False,
    )
    store.commit_now()
    again = store.outbox.add(req, pdus, encoding="gsm7", now=2.0, expires_at=None)  # a client's retry
    assert again.duplicate and (again.message_id, again.recipients, again.parts) == (
        first.message_id,
        ("+1", "+2"),
        2,
    )
    with pytest.raises(ClientIdConflict) as conflict:  # the same id for another message: not a retry
        store.outbox.add(SendRequest(recipients=("+9",), text="other", client_id="abc"), {"+9": [("EE", 1)]},
                         encoding="ucs2", now=2.0, expires_at=None)
    assert conflict.value.message_id == first.message_id
    assert not store.dirty  # wrote nothing
    assert store.outbox.queue_depths() == {"unassigned": 4}
    no_id = [send(store, "+1"), send(store, "+1")]
    assert no_id[0] != no_id[1]


def test_add_outbound_requires_pdus_for_every_recipient(store: Store) -> None:
    with pytest.raises(ValueError):
        store.outbox.add(
            SendRequest(recipients=("+1", "+2"), text="x"),
            {"+1": [("AA", 1)]},
            encoding="gsm7",
            now=1.0,
            expires_at=None,
        )


def test_parts_come_in_message_recipient_seq_order_and_stick_to_one_modem(store: Store) -> None:
    m1 = send(store, "+1", "+2", parts=2, now=1.0)
    m2 = send(store, "+3", now=2.0)
    got = []
    for modem in ("gsm0", "gsm1", "gsm0", "gsm1", "gsm0"):
        p = store.outbox.claim_next_part(modem, 10.0)
        assert p is not None
        store.outbox.mark_sending(p.part_id, 10.0)
        got.append((modem, p.message_id, p.recipient, p.seq, p.total))
    assert got == [
        ("gsm0", m1, "+1", 1, 2),
        ("gsm1", m1, "+2", 1, 2),
        ("gsm0", m1, "+1", 2, 2),
        ("gsm1", m1, "+2", 2, 2),
        ("gsm0", m2, "+3", 1, 1),
    ]
    assert store.outbox.claim_next_part("gsm1", 10.0) is None


def test_claim_does_not_change_state_until_mark_sending(store: Store) -> None:
    send(store, "+1", now=1.0)
    a = store.outbox.claim_next_part("gsm0", 5.0)
    b = store.outbox.claim_next_part("gsm0", 5.0)
    assert a is not None and b is not None and a.part_id == b.part_id and a.modem_id == "gsm0"
    assert store.outbox.claim_next_part("gsm1", 5.0) is None  # the recipient is gsm0's now


def test_pinned_message_goes_only_through_its_modem(store: Store) -> None:
    send(store, "+1", modem="gsm1", now=1.0)
    assert store.outbox.claim_next_part("gsm0", 5.0) is None
    assert store.outbox.next_due_at("gsm0") is None
    assert store.outbox.next_due_at("gsm1") == 1.0
    p = store.outbox.claim_next_part("gsm1", 5.0)
    assert p is not None and p.recipient == "+1"


def test_not_due_before_next_attempt_at(store: Store) -> None:
    send(store, "+1", now=100.0)
    assert store.outbox.claim_next_part("gsm0", 99.0) is None
    p = store.outbox.claim_next_part("gsm0", 100.0)
    assert p is not None
    store.outbox.mark_sending(p.part_id, 100.0)
    store.outbox.mark_retry(p.part_id, 100.0, "+CMS ERROR: 38", 30.0)
    assert store.outbox.claim_next_part("gsm0", 129.0) is None
    assert store.outbox.next_due_at("gsm0") == 130.0
    again = store.outbox.claim_next_part("gsm0", 130.0)
    assert again is not None and again.part_id == p.part_id and again.attempts == 1


def test_sent_and_failed_states_and_view(store: Store) -> None:
    mid = send(store, "+1", "+2", now=1.0)
    p1 = store.outbox.claim_next_part("gsm0", 2.0)
    assert p1 is not None
    store.outbox.mark_sending(p1.part_id, 2.0)
    assert store.views.outbound(mid).state == "sending"
    store.outbox.mark_sent(p1.part_id, 17, 3.0)
    p2 = store.outbox.claim_next_part("gsm0", 3.0)
    assert p2 is not None
    store.outbox.mark_sending(p2.part_id, 3.0)
    store.outbox.mark_failed(p2.part_id, 4.0, "+CMS ERROR: 21")
    view = store.views.outbound(mid)
    assert view is not None and view.state == "partially_failed"
    r1, r2 = view.recipients
    assert (r1.state, r1.modem, r1.parts[0].mr, r1.parts[0].modem) == (
        "sent",
        "gsm0",
        17,
        "gsm0",
    )
    assert r1.parts[0].sent_at == utc(3.0) and r1.parts[0].attempts == 1
    assert (r2.state, r2.parts[0].error) == ("failed", "+CMS ERROR: 21")
    assert store.views.counts().outbound["partially_failed"] == 1
    with pytest.raises(UnknownMessageError):
        store.outbox.mark_sent(12345, 1, 1.0)


def test_expired_parts_fail_instead_of_being_sent(store: Store) -> None:
    old = send(store, "+1", parts=2, now=1.0, expires_at=50.0)
    new = send(store, "+2", now=2.0, expires_at=500.0)
    p = store.outbox.claim_next_part("gsm0", 60.0)
    assert p is not None and p.message_id == new
    view = store.views.outbound(old)
    assert view is not None and view.state == "failed"
    assert {part.error for part in view.recipients[0].parts} == {"expired"}


def test_release_modem_moves_unsent_recipients(store: Store) -> None:
    send(store, "+1", parts=2, now=1.0)
    send(store, "+2", now=2.0)
    send(store, "+3", modem="gsm0", now=3.0)
    first = store.outbox.claim_next_part("gsm0", 5.0)  # +1 part 1
    assert first is not None
    store.outbox.mark_sending(first.part_id, 5.0)
    store.outbox.mark_sent(first.part_id, 1, 5.0)
    p2 = store.outbox.claim_next_part("gsm0", 5.0)  # +1 part 2
    assert p2 is not None and p2.recipient == "+1"
    nxt = store.outbox.claim_next_part("gsm0", 5.0)
    assert nxt is not None and nxt.recipient == "+1"
    # claim +2 for gsm0 without sending it yet
    store.outbox.mark_sending(p2.part_id, 5.0)
    store.outbox.mark_retry(p2.part_id, 5.0, "x", 100.0)
    p_2 = store.outbox.claim_next_part("gsm0", 5.0)
    assert p_2 is not None and p_2.recipient == "+2"
    assert store.outbox.release_modem("gsm0") == 1  # +2 only: +1 has a part sent, +3 is pinned
    q = store.outbox.claim_next_part("gsm1", 6.0)
    assert q is not None and q.recipient == "+2"
    assert store.outbox.release_modem("gsm9") == 0


@pytest.mark.parametrize("policy", ["resend", "fail"])
def test_recover_interrupted(store: Store, policy: str) -> None:
    mid = send(store, "+1", "+2", now=1.0)
    p = store.outbox.claim_next_part("gsm0", 2.0)
    assert p is not None
    store.outbox.mark_sending(p.part_id, 2.0)
    store.commit_now()
    assert store.outbox.recover_interrupted(10.0, policy) == 1  # type: ignore[arg-type]
    assert store.outbox.recover_interrupted(11.0, policy) == 0  # type: ignore[arg-type]
    view = store.views.outbound(mid)
    assert view is not None
    part = view.recipients[0].parts[0]
    if policy == "resend":
        assert (part.state, part.resent_after_unknown) == ("queued", True)
        older = store.outbox.claim_next_part("gsm0", 10.0)  # +2 was due earlier than the re-queued part
        assert older is not None and older.recipient == "+2"
        store.outbox.mark_sending(older.part_id, 10.0)
        again = store.outbox.claim_next_part("gsm0", 10.0)
        assert again is not None and again.part_id == p.part_id and again.resent_after_unknown
    else:
        assert (part.state, part.resent_after_unknown) == ("unknown", False)
        assert "unconfirmed" in (part.error or "")
        other = store.outbox.claim_next_part("gsm0", 10.0)
        assert other is None or other.part_id != p.part_id
        assert store.outbox.retry(mid, 20.0)  # the operator decides to resend
        assert store.views.outbound(mid).recipients[0].parts[0].state == "queued"


def test_mark_part_unknown_is_final(store: Store) -> None:
    mid = send(store, "+1", now=1.0)
    p = store.outbox.claim_next_part("gsm0", 1.0)
    assert p is not None
    store.outbox.mark_sending(p.part_id, 1.0)
    store.outbox.mark_unknown(p.part_id, 2.0, "no answer to AT+CMGS")
    assert store.outbox.claim_next_part("gsm0", 3.0) is None
    assert store.views.outbound(mid).state == "unknown"


def test_cancel_and_retry(store: Store) -> None:
    mid = send(store, "+1", parts=2, now=1.0, expires_at=101.0)
    assert store.outbox.cancel(mid, 5.0)
    assert not store.outbox.cancel(mid, 6.0)
    assert not store.outbox.cancel("nope", 6.0)
    assert store.outbox.claim_next_part("gsm0", 7.0) is None
    view = store.views.outbound(mid)
    assert view is not None and view.state == "failed"
    assert store.outbox.retry(mid, 1000.0)
    view = store.views.outbound(mid)
    assert view is not None and view.state == "queued" and view.expires_at == utc(1100.0)
    assert store.outbox.claim_next_part("gsm0", 1000.0) is not None  # expiry restarted from the retry
    assert not store.outbox.retry("nope", 1.0)


def test_queue_depths(store: Store) -> None:
    send(store, "+1", parts=3)
    send(store, "+2")
    assert store.outbox.claim_next_part("gsm0", 1e6) is not None
    assert store.outbox.queue_depths() == {"gsm0": 3, "unassigned": 1}


def test_expiry_does_not_cut_a_recipient_off_mid_message(store: Store) -> None:
    mid = send(store, "+1", "+2", parts=2, now=1.0, expires_at=50.0)
    p = store.outbox.claim_next_part("gsm0", 10.0)
    assert p is not None and (p.recipient, p.seq) == ("+1", 1)
    store.outbox.mark_sending(p.part_id, 10.0)
    store.outbox.mark_sent(p.part_id, 1, 10.0)
    rest = store.outbox.claim_next_part("gsm0", 60.0)  # past expiry, but +1 already holds part 1
    assert rest is not None and (rest.recipient, rest.seq) == ("+1", 2)
    store.outbox.mark_sending(rest.part_id, 60.0)
    store.outbox.mark_sent(rest.part_id, 2, 60.0)
    assert store.outbox.claim_next_part("gsm0", 60.0) is None
    assert store.outbox.claim_next_part("gsm1", 60.0) is None
    view = store.views.outbound(mid)
    assert view is not None and [r.state for r in view.recipients] == ["sent", "failed"]
    assert view.state == "partially_failed"
