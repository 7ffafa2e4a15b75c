"""Operator views: listing, counts, JSON-ready views."""

from __future__ import annotations

import json

from modembridge.model import InboundView, OutboundView
from modembridge.model.wire import from_wire, to_wire
from modembridge.store import Store

from .helpers import add_part, send


def test_list_messages_newest_first_with_state_filter(store: Store) -> None:
    a = send(store, "+1", now=1.0, client_id="c1")
    b = send(store, "+2", "+3", now=2.0)
    p = store.outbox.claim_next_part("gsm0", 3.0)
    assert p is not None and p.message_id == a
    store.outbox.mark_sending(p.part_id, 3.0)
    store.outbox.mark_sent(p.part_id, 1, 3.0)
    out = store.views.recent(direction="out", state=None, limit=10)
    assert [m.id for m in out] == [b, a]
    assert out[0].recipients == 2 and out[1].client_id == "c1"
    assert [m.id for m in store.views.recent(direction="out", state="sent", limit=10)] == [a]
    assert [m.id for m in store.views.recent(direction="out", state="queued", limit=10)] == [b]
    assert len(store.views.recent(direction="out", state=None, limit=1)) == 1

    r1 = add_part(store, "+9", "hel", now=1.0, concat=(1, 2, 1))
    add_part(store, "+9", "lo", now=2.0, concat=(1, 2, 2))
    r2 = add_part(store, "+8", "x", now=3.0)
    store.inbox.mark_delivered(r2.message_id, 4.0)
    inbound = store.views.recent(direction="in", state=None, limit=10)
    assert [(m.id, m.text, m.state) for m in inbound] == [
        (r2.message_id, "x", "delivered"),
        (r1.message_id, "hello", "received"),
    ]
    assert [m.id for m in store.views.recent(direction="in", state="received", limit=10)] == [
        r1.message_id
    ]


def test_counts_and_views_go_on_the_wire(store: Store) -> None:
    assert to_wire(store.views.counts()) == {
        "in": {"assembling": 0, "received": 0, "delivered": 0, "rejected": 0, "dead": 0, "undecodable": 0,
               "unmatched": 0, "discarded": 0, "indication": 0, "replaced": 0, "selftest": 0},
        "out": {"queued": 0, "sending": 0, "sent": 0, "failed": 0, "partially_failed": 0, "unknown": 0,
                "moved": 0},
    }
    mid = send(store, "+1", parts=2, dlr_url="http://d/?%d", dlr_mask=31, status_report=True)
    r = add_part(store, "+2", "hi", now=1.0)
    store.inbox.add_part(
        modem_id="gsm0", mem="SM", index=3, pdu="00", received_at=1.0, part=None, error="bad"
    )
    counts = store.views.counts()
    assert counts.outbound["queued"] == 1 and counts.inbound["received"] == 1
    assert counts.inbound["undecodable"] == 1
    out = store.views.outbound(mid)
    inn = store.views.inbound(r.message_id)
    assert out is not None and inn is not None
    assert from_wire(OutboundView, json.loads(json.dumps(to_wire(out)))) == out  # the wire keeps it all
    assert from_wire(InboundView, json.loads(json.dumps(to_wire(inn)))) == inn
    assert (out.status_report, out.dlr_mask, out.parts, out.text) == (True, 31, 2, "hello")
    assert [p.seq for p in out.recipients[0].parts] == [1, 2]
    assert store.views.message(mid) == out and store.views.message(r.message_id) == inn
    assert store.views.outbound(r.message_id) is None and store.views.message("nope") is None
