"""Each writer learns the outcome of the transaction that holds its own writes (issue 12, item 1).

A group COMMIT that fails rolls back every writer's rows in it; so does SQLite itself when a statement
fails with SQLITE_FULL or SQLITE_IOERR. A writer that only asks "commit whatever is open" afterwards
would find nothing open and go on as if it had been saved: so the handle is taken right after writing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from modembridge.model import DeliveryReportEvent, DlrStatus
from modembridge.store import Store, StoreError, UnknownMessageError

from .helpers import add_part, send


async def test_a_writer_whose_rows_another_writers_failed_commit_rolled_back_is_told(store: Store) -> None:
    add_part(store, "+254700000001", "mine", now=1.0, commit=False)
    mine = store.transaction  # taken right after writing; the writer then yields before awaiting
    assert mine is not None
    store.db.execute("PRAGMA defer_foreign_keys = ON")  # the other writer's row fails at COMMIT
    store.db.execute("INSERT INTO out_recipient (message, number) VALUES (999, '+x')")
    with pytest.raises(StoreError):
        store.commit_now()  # the other writer's synchronous commit
    with pytest.raises(StoreError):
        await store.durable(mine)
    assert store.views.recent(direction="in", state=None, limit=5) == []
    await store.commit()  # what the old code did: finds nothing open and returns — the trap
    assert mine.done and mine.error is not None


async def test_a_transaction_sqlite_rolled_back_by_itself_fails_its_writers(store: Store) -> None:
    add_part(store, "+254700000001", "lost", now=1.0, commit=False)
    txn = store.transaction
    store.db.execute("ROLLBACK")  # what SQLite does on SQLITE_FULL inside a statement
    with pytest.raises(StoreError, match="rolled"):
        await store.durable(txn)
    assert not store.writable()
    add_part(store, "+254700000002", "next", now=2.0, commit=False)  # a fresh transaction
    nxt = store.transaction
    assert nxt is not None and nxt is not txn and nxt.seq == txn.seq + 1  # type: ignore[union-attr]
    await store.durable(nxt)
    assert store.writable() and [m.sender for m in store.views.recent(
        direction="in", state=None, limit=5)] == ["+254700000002"]


def test_commit_now_raises_when_the_open_transaction_was_lost(store: Store) -> None:
    send(store, "+1")
    store.db.execute("ROLLBACK")
    with pytest.raises(StoreError):
        store.commit_now()
    store.commit_now()  # nothing open any more: a no-op


async def test_a_committed_transaction_stays_committed_for_a_late_waiter(store: Store) -> None:
    send(store, "+1")
    txn = store.transaction
    await store.commit()
    add_part(store, "+254700000001", "later", now=1.0, commit=False)  # a new transaction is open now
    await store.durable(txn)  # returns at once: that one committed
    assert store.dirty


class FailingStatement:
    """The store's connection, failing the first statement that contains `needle` (SQLITE_FULL without
    SQLite rolling the transaction back: the statement alone is undone)."""

    def __init__(self, db: sqlite3.Connection, needle: str) -> None:
        self._db = db
        self.needle = needle

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.needle and self.needle in sql:
            self.needle = ""
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def test_a_write_method_that_fails_half_way_leaves_nothing_behind(store: Store) -> None:
    send(store, "+1")  # another writer's row in the same transaction
    other = store.transaction
    store.db = FailingStatement(store.db, "INSERT INTO in_part")  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError):
        add_part(store, "+254700000001", "half", now=1.0, commit=False)  # in_message written, in_part fails
    with pytest.raises(StoreError, match="add_part failed after it began writing"):
        await store.durable(other)  # the whole transaction went: its other writer is told, and retries
    assert store.views.recent(direction="in", state=None, limit=5) == []  # no part-less message
    assert store.views.recent(direction="out", state=None, limit=5) == []
    send(store, "+1")  # the journal goes on
    await store.commit()
    assert len(store.views.recent(direction="out", state=None, limit=5)) == 1


async def test_a_method_that_fails_before_writing_costs_nobody_anything(store: Store) -> None:
    send(store, "+1")
    other = store.transaction
    with pytest.raises(UnknownMessageError):
        store.inbox.mark_delivered("no-such-message", 1.0)  # looks the row up first: nothing written
    await store.durable(other)
    assert len(store.views.recent(direction="out", state=None, limit=5)) == 1


async def test_messages_that_became_deliverable_wait_for_their_commit(store: Store) -> None:
    add_part(store, "+254700000001", "single", now=1.0, commit=False)
    add_part(store, "+254700000002", "two ", now=1.0, concat=(5, 2, 1), commit=False)
    add_part(store, "+254700000002", "parts", now=1.0, concat=(5, 2, 2), commit=False)
    assert store.inbox.due(10.0, 10) == []  # not durable yet: a rollback would change their ids
    assert store.inbox.next_due_at() is not None  # the loop still wakes for them
    await store.commit()
    assert sorted(m.sender for m in store.inbox.due(10.0, 10)) == ["+254700000001", "+254700000002"]


async def test_dlr_callbacks_wait_for_their_commit(store: Store) -> None:
    from datetime import UTC, datetime

    event = DeliveryReportEvent(url_template="http://x/?s=%d", status=DlrStatus.DELIVERED, message_id="m",
                                recipient="+1", modem_id="gsm0", smsc_message_id="3",
                                at=datetime(2026, 1, 1, tzinfo=UTC))
    first = store.reports.add_callback(event, 1.0)
    await store.commit()
    second = store.reports.add_callback(event, 1.0)  # its row id could be reused if this rolls back
    assert [cid for cid, _ in store.reports.due_callbacks(2.0, 10)] == [first]
    await store.commit()
    assert [cid for cid, _ in store.reports.due_callbacks(2.0, 10)] == [first, second]
