"""Resend, next part or new message: the journal's grouping decisions, with explicit SMSC time stamps."""

from __future__ import annotations

import pytest

from modembridge.store import Store
from modembridge.store.grouping import (
    PART_SPREAD,
    RESEND_WINDOW,
    Group,
    GroupedPart,
    Placement,
    Verdict,
    place,
)

from .helpers import add_part


def drain(store: Store, now: float = 1e6) -> list[str]:
    """Every deliverable message's text, delivering each (in order per sender)."""
    texts: list[str] = []
    while batch := store.inbox.due(now, 10):
        for m in batch:
            texts.append(m.text)
            store.inbox.mark_delivered(m.message_id, now)
    return texts

T = 1_700_000_000.0  # a TP-SCTS, unix seconds


def gp(seq: int, text: str, stamp: float | None) -> GroupedPart:
    return GroupedPart(seq, text, None, stamp)


OPEN_A = Group(1, True, (gp(1, "part one ", T),))  # assembling: seq 1 at T
DONE_A = Group(1, False, (gp(1, "part one ", T), gp(2, "disclaimer", T + 1)))  # complete at T, T+1

TABLE = [
    # (groups, the new part, expected placement, why)
    ([], gp(1, "x", T), Placement(Verdict.NEW), "nothing to join"),
    ([OPEN_A], gp(1, "part one ", T), Placement(Verdict.RESEND, 1), "the SMSC repeats the stamp"),
    ([OPEN_A], gp(1, "part one ", T + RESEND_WINDOW), Placement(Verdict.RESEND, 1),
     "a handset's own retry, a few seconds later"),
    ([OPEN_A], gp(1, "part one ", T + RESEND_WINDOW + 1), Placement(Verdict.NEW),
     "the same text sent again later: a new message"),
    ([OPEN_A], gp(1, "other", T), Placement(Verdict.NEW), "seq taken by other content"),
    ([OPEN_A], gp(2, "two", T + 2), Placement(Verdict.JOIN, 1), "the next part, close by"),
    ([OPEN_A], gp(2, "two", T + PART_SPREAD), Placement(Verdict.JOIN, 1), "at the spread's edge"),
    ([OPEN_A], gp(2, "two", T + PART_SPREAD + 1), Placement(Verdict.NEW),
     "too far from the group's stamps: a new message reusing the reference"),
    ([OPEN_A], gp(2, "two", T - 5), Placement(Verdict.JOIN, 1), "stamps may come in any order"),
    ([DONE_A], gp(2, "disclaimer", T + 1), Placement(Verdict.RESEND, 1), "resent after completion"),
    ([DONE_A], gp(2, "disclaimer", T + 60), Placement(Verdict.NEW),
     "the same disclaimer a minute later: the next message of a fixed-reference sender"),
    ([DONE_A], gp(3, "three", T + 1), Placement(Verdict.NEW), "a complete group takes no part"),
    ([Group(1, True, (gp(1, "a", T),)), Group(2, True, (gp(1, "b", T + 20),))], gp(2, "c", T + 18),
     Placement(Verdict.JOIN, 2), "the nearest group wins"),
    ([Group(1, True, (gp(1, "a", T),)), Group(2, True, (gp(1, "b", T),))], gp(2, "c", T),
     Placement(Verdict.JOIN, 1), "a tie: the oldest group"),
    ([Group(1, True, (gp(1, "a", None),))], gp(1, "a", T + 3600), Placement(Verdict.RESEND, 1),
     "a row without a stamp (an older journal): content decides, as before"),
    ([Group(1, True, (gp(1, "a", None),))], gp(2, "b", T + 3600), Placement(Verdict.JOIN, 1),
     "a row without a stamp takes any free seq"),
]


@pytest.mark.parametrize(("groups", "part", "expected", "why"), TABLE, ids=[row[3] for row in TABLE])
def test_place(groups: list[Group], part: GroupedPart, expected: Placement, why: str) -> None:
    assert place(part, groups) == expected, why


def test_bytes_count_as_content() -> None:
    group = Group(1, True, (GroupedPart(1, "", b"\x01\x02", T),))
    assert place(GroupedPart(1, "", b"\x01\x02", T), [group]).verdict is Verdict.RESEND
    assert place(GroupedPart(1, "", b"\x01\x03", T), [group]).verdict is Verdict.NEW


# ------------------------------------------------------------------ the journal applies it


def test_a_fixed_reference_sender_repeating_a_disclaimer_gets_both_messages(store: Store) -> None:
    """Two 2-part messages a minute apart under one reference, the second parts-reversed, whose second
    parts are the same: both delivered, whole."""
    add_part(store, "BANK", "Code 1111. ", now=0.0, concat=(0, 2, 1), smsc_time=T)
    first = add_part(store, "BANK", "Never share it.", now=1.0, concat=(0, 2, 2), smsc_time=T)
    assert first.complete
    again = add_part(store, "BANK", "Never share it.", now=61.0, concat=(0, 2, 2), smsc_time=T + 60)
    assert not again.duplicate and not again.complete and again.message_id != first.message_id
    second = add_part(store, "BANK", "Code 2222. ", now=62.0, concat=(0, 2, 1), smsc_time=T + 60)
    assert second.complete and second.message_id == again.message_id
    assert drain(store) == ["Code 1111. Never share it.", "Code 2222. Never share it."]


def test_a_stale_part_is_not_glued_to_a_new_message_with_the_same_reference(store: Store) -> None:
    stale = add_part(store, "+254711000001", "lost half ", now=0.0, concat=(9, 2, 1), smsc_time=T)
    a = add_part(store, "+254711000001", "tail", now=300.0, concat=(9, 2, 2), smsc_time=T + 300)
    assert a.message_id != stale.message_id and not a.complete
    b = add_part(store, "+254711000001", "head ", now=301.0, concat=(9, 2, 1), smsc_time=T + 300)
    assert b.complete and b.message_id == a.message_id
    assert drain(store, 400.0) == ["head tail"]
    assert store.views.counts().inbound["assembling"] == 1  # the stale half waits for its timeout alone


def test_a_resend_with_the_same_stamp_after_completion_is_dropped(store: Store) -> None:
    a = add_part(store, "+2547", "one ", now=0.0, concat=(4, 2, 1), smsc_time=T)
    add_part(store, "+2547", "two", now=1.0, concat=(4, 2, 2), smsc_time=T)
    store.inbox.mark_delivered(a.message_id, 2.0)
    again = add_part(store, "+2547", "one ", now=600.0, concat=(4, 2, 1), pdu="AB01", smsc_time=T)
    assert (again.duplicate, again.complete, again.message_id) == (True, True, a.message_id)


def test_a_person_sending_the_same_long_text_twice_gets_two_messages(store: Store) -> None:
    texts = []
    for n, t in enumerate((T, T + 45)):
        add_part(store, "+2548", "see you ", now=t - T, concat=(5, 2, 1), smsc_time=t)
        r = add_part(store, "+2548", "at noon", now=t - T + 1, concat=(5, 2, 2), smsc_time=t + 1)
        assert r.complete and not r.duplicate, n
        texts.append(r.message_id)
    assert len(set(texts)) == 2 and drain(store) == ["see you at noon"] * 2


def test_the_windows_are_settings(db_path: object) -> None:
    from pathlib import Path

    assert isinstance(db_path, Path)
    store = Store(db_path, resend_window=100.0, part_spread=1000.0)
    add_part(store, "+1", "a", now=0.0, concat=(1, 2, 1), smsc_time=T)
    r = add_part(store, "+1", "b", now=1.0, concat=(1, 2, 2), smsc_time=T + 500)
    assert r.complete  # 500 s apart still one message with a 1000 s spread
    again = add_part(store, "+1", "b", now=2.0, concat=(1, 2, 2), smsc_time=T + 590)
    assert again.duplicate
    store.close()
