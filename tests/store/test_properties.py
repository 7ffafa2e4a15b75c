"""Property tests: reassembly under any arrival order with duplicates; order per sender under any outcomes."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from modembridge.config import RetryPolicy
from modembridge.store import Store

from .helpers import add_part


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=2, max_value=6),
    order_seed=st.integers(min_value=0, max_value=2**32),
    dup_count=st.integers(min_value=0, max_value=4),
    interleave=st.booleans(),
)
def test_reassembly_any_order_with_duplicates(
    total: int, order_seed: int, dup_count: int, interleave: bool
) -> None:
    rng = random.Random(order_seed)
    arrivals = [("+1", seq) for seq in range(1, total + 1)]
    arrivals += [("+1", rng.randint(1, total)) for _ in range(dup_count)]  # resent by the network or re-read
    if interleave:
        arrivals += [("+2", seq) for seq in range(1, total + 1)]  # another sender, same reference
    rng.shuffle(arrivals)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "j.db")
        ids: dict[str, set[str]] = {"+1": set(), "+2": set()}
        completions = 0
        for n, (sender, seq) in enumerate(arrivals):
            same_pdu = rng.random() < 0.5  # a re-read of the very same PDU, or a resend with a new time stamp
            pdu = f"{sender}-{seq}" if same_pdu else f"{sender}-{seq}-{n}"
            r = add_part(
                store, sender, f"<{seq}>", now=float(n), concat=(77, total, seq), pdu=pdu.encode().hex()
            )
            ids[sender].add(r.message_id)
            completions += r.complete and not r.duplicate
        assert len(ids["+1"]) == 1 and completions == (2 if interleave else 1)
        delivered = {m.sender: m for m in store.inbox.due(1e6, 10)}
        expected = "".join(f"<{seq}>" for seq in range(1, total + 1))
        assert delivered["+1"].text == expected and delivered["+1"].parts == total
        assert ("+2" in delivered) is interleave
        store.close()


@settings(max_examples=40, deadline=None)
@given(
    senders=st.lists(st.sampled_from(["+A", "+B", "+C"]), min_size=1, max_size=12),
    outcomes=st.lists(st.sampled_from(["ok", "retry", "reject"]), min_size=1, max_size=60),
    hold=st.integers(min_value=1, max_value=4),
)
def test_order_per_sender_under_any_outcomes(senders: list[str], outcomes: list[str], hold: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "j.db", order_hold_attempts=hold, rng=random.Random(1))
        ids = [add_part(store, s, f"m{i}", now=0.0).message_id for i, s in enumerate(senders)]
        sender_of = dict(zip(ids, senders, strict=True))
        failures: dict[str, int] = dict.fromkeys(ids, 0)
        finished: set[str] = set()
        policy = RetryPolicy(initial=1.0, factor=1.0, cap=1.0)
        now = 0.0
        for outcome in outcomes:
            nxt = store.inbox.next_due_at()
            if nxt is None:
                break
            assert nxt >= 0.0
            now = max(now, nxt)
            due = store.inbox.due(now, 10)
            assert due, "next_inbound_due_at promised something due"
            m = due[0]
            # every older message of this sender is finished or has failed `hold` times
            older = [i for i in ids[: ids.index(m.message_id)] if sender_of[i] == m.sender]
            assert all(i in finished or failures[i] >= hold for i in older)
            if outcome == "ok":
                store.inbox.mark_delivered(m.message_id, now)
                finished.add(m.message_id)
            elif outcome == "reject":
                store.inbox.mark_rejected(m.message_id, now, "400")
                finished.add(m.message_id)
            else:
                store.inbox.mark_retry(m.message_id, now, "503", policy)
                failures[m.message_id] += 1
        store.close()


@settings(max_examples=80, deadline=None)
@given(
    plan=st.lists(  # per message: sender, reference, parts, whether its last part is a shared disclaimer
        st.tuples(st.sampled_from(["+A", "+B", "BANK"]), st.integers(0, 1), st.integers(2, 3), st.booleans()),
        min_size=1, max_size=8),
    seed=st.integers(min_value=0, max_value=2**32),
    lose=st.floats(min_value=0.0, max_value=0.3),
    resend=st.floats(min_value=0.0, max_value=0.4),
)
def test_look_alike_streams_come_out_whole_and_once(
    plan: list[tuple[str, int, int, bool]], seed: int, lose: float, resend: float
) -> None:
    """Several senders reusing references, the same disclaimer in many messages, parts lost, parts resent
    (with the same stamp or a handset's few seconds later), everything interleaved in any order: every
    complete message comes out exactly once with its own text, and no part is glued to another message.

    The stream keeps the documented limits: one message's parts lie within seconds of each other, and two
    messages with the same sender and reference are further apart than twice the part spread."""
    rng = random.Random(seed)
    arrivals: list[tuple[str, int, int, str, float, str]] = []  # sender, ref, total/seq..., text, stamp, pdu
    expected: list[tuple[str, str]] = []
    count: dict[str, int] = {}
    for n, (sender, ref, total, disclaimer) in enumerate(plan):
        k = count[sender] = count.get(sender, -1) + 1
        stamp = 1_700_000_000.0 + k * 120.0  # this sender's k-th message (any reference): 120 s apart
        texts = [f"[{sender}{n}.{seq}]" for seq in range(1, total + 1)]
        if disclaimer:
            texts[-1] = "(terms apply)"
        whole = True
        for seq, text in enumerate(texts, 1):
            at = stamp + rng.uniform(0, 5)
            if rng.random() < lose:
                whole = False
                continue
            arrivals.append((sender, ref, total * 10 + seq, text, at, f"{n}.{seq}"))
            if rng.random() < resend:  # the SMSC again (same stamp, same PDU or not), or the handset retrying
                again = at if rng.random() < 0.5 else at + rng.uniform(0, 8)
                pdu = f"{n}.{seq}" if again == at and rng.random() < 0.5 else f"{n}.{seq}.again"
                arrivals.append((sender, ref, total * 10 + seq, text, again, pdu))
        if whole:
            expected.append((sender, "".join(texts)))
    rng.shuffle(arrivals)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "j.db")
        for i, (sender, ref, ts, text, at, pdu) in enumerate(arrivals):
            add_part(store, sender, text, now=float(i), concat=(ref, ts // 10, ts % 10), smsc_time=at,
                     pdu=pdu.encode().hex())
        delivered: list[tuple[str, str]] = []
        while batch := store.inbox.due(1e6, 50):
            for m in batch:
                delivered.append((m.sender, m.text))
                store.inbox.mark_delivered(m.message_id, 1e6)
        assert sorted(delivered) == sorted(expected)
        store.close()
