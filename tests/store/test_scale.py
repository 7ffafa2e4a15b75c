"""The hot queries stay index lookups: checked on the query plans, and run on 100k rows (slow)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from modembridge.config import RetryPolicy
from modembridge.model import SendRequest
from modembridge.store import Store

from .helpers import add_part, send

_FULL_SCAN = re.compile(r"^SCAN (\w+)$")  # a table scan with no index at all


def _plans(store: Store, action: object) -> list[tuple[str, str]]:
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    action()  # type: ignore[operator]
    store.db.set_trace_callback(None)
    out = []
    for sql in seen:
        if sql.split()[0].upper() in ("SELECT", "UPDATE"):
            out += [(sql, row[3]) for row in store.db.execute("EXPLAIN QUERY PLAN " + sql)]
    return out


def test_hot_paths_use_indexes(store: Store) -> None:
    for i in range(30):
        send(store, f"+{i}", parts=2, now=float(i))
        add_part(store, f"+{i % 4}", "x", now=float(i))
    add_part(store, "+9", "a", now=1.0, concat=(1, 2, 1))

    def hot() -> None:
        p = store.outbox.claim_next_part("gsm0", 100.0)
        assert p is not None
        store.outbox.mark_sending(p.part_id, 100.0)
        store.outbox.mark_sent(p.part_id, 5, 100.0)
        store.outbox.next_due_at("gsm0")
        [m, *_] = store.inbox.due(100.0, 10)
        store.inbox.mark_retry(m.message_id, 100.0, "x", RetryPolicy())
        store.inbox.next_due_at()
        store.reports.match("gsm0", 5, "+0", 200.0)
        store.inbox.expire_incomplete(100.0, 1000.0)
        add_part(store, "+9", "b", now=2.0, concat=(1, 2, 2))
        store.outbox.release_modem("gsm0")
        store.reports.due_callbacks(100.0, 10)

    plans = _plans(store, hot)
    assert len(plans) > 20
    scans = [(sql, detail) for sql, detail in plans if _FULL_SCAN.match(detail)]
    assert scans == []


@pytest.mark.slow
def test_100k_rows(tmp_path: Path) -> None:
    s = Store(tmp_path / "big.db", synchronous="NORMAL")
    n = 100_000
    for i in range(n):
        s.outbox.add(
            SendRequest(recipients=(f"+2547{i:08d}",), text="x"),
            {f"+2547{i:08d}": [("AA", 1)]},
            encoding="gsm7",
            now=float(i),
            expires_at=None,
        )
        add_part(s, f"+2547{i % 5000:08d}", "x", now=float(i), pdu=f"{i:08X}")
    s.commit_now()
    t0 = time.perf_counter()
    for _ in range(1000):
        p = s.outbox.claim_next_part("gsm0", 1e9)
        assert p is not None
        s.outbox.mark_sending(p.part_id, 1e9)
        s.outbox.mark_sent(p.part_id, 1, 1e9)
    claim = (time.perf_counter() - t0) / 1000
    t0 = time.perf_counter()
    for _ in range(200):
        batch = s.inbox.due(1e9, 10)
        assert len(batch) == 10
        for m in batch:
            s.inbox.mark_delivered(m.message_id, 1e9)
    due = (time.perf_counter() - t0) / 200
    s.close()
    # Speed is a benchmark's business (bench/store_bench.py), not a test's: printed, not asserted. What is
    # asserted is that the hot paths keep working on 100k rows (above) and use indexes (the plan test).
    print(f"claim+mark {claim * 1e3:.3f} ms, due_inbound(10)+mark {due * 1e3:.3f} ms")
