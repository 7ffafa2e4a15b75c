"""Durability: group commit, crash (uncommitted gone, committed kept), schema migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modembridge.store import SCHEMA_VERSION, SchemaError, Store, StoreError
from modembridge.store.journal import CACHE_KIB
from modembridge.store.schema import migrate, version

from .helpers import add_part, send


def _count_commits(store: Store) -> list[str]:
    seen: list[str] = []
    store.db.set_trace_callback(lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def test_pragmas(store: Store, db_path: Path) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB  # KiB, not pages
    normal = Store(db_path, synchronous="NORMAL")
    assert normal.db.execute("PRAGMA synchronous").fetchone()[0] == 1
    normal.close()
    with pytest.raises(ValueError):
        Store(db_path, synchronous="OFF")  # type: ignore[arg-type]


async def test_concurrent_commits_share_one_commit(store: Store) -> None:
    commits = _count_commits(store)

    async def accept(i: int) -> str:
        mid = send(store, f"+{i}", client_id=f"c{i}")
        await store.commit()
        return mid

    ids = await asyncio.gather(*(accept(i) for i in range(50)))
    assert len(set(ids)) == 50
    assert commits == ["COMMIT"] and store.commits == 1
    assert not store.dirty
    # separate loop iterations: separate commits
    for _ in range(3):
        send(store, "+1")
        await store.commit()
    assert len(commits) == 4
    await store.commit()  # nothing to commit: no COMMIT
    assert len(commits) == 4


async def test_commit_waits_for_a_commit_already_scheduled(store: Store) -> None:
    commits = _count_commits(store)
    send(store, "+1")
    first = asyncio.ensure_future(store.commit())
    await asyncio.sleep(0)  # first is now waiting on the scheduled COMMIT
    second = asyncio.ensure_future(store.commit())
    await asyncio.gather(first, second)
    assert commits == ["COMMIT"]


async def test_cancelled_waiter_does_not_cancel_the_commit(store: Store) -> None:
    commits = _count_commits(store)
    send(store, "+1")
    a = asyncio.ensure_future(store.commit())
    b = asyncio.ensure_future(store.commit())
    await asyncio.sleep(0)
    a.cancel()
    await b
    assert commits == ["COMMIT"] and not store.dirty


async def test_commit_failure_reaches_every_waiter_and_rolls_back(store: Store) -> None:
    send(store, "+1")
    store.commit_now()
    store.db.execute("BEGIN IMMEDIATE")
    store.db.execute("PRAGMA defer_foreign_keys = ON")  # the violation below surfaces at COMMIT
    store.db.execute("INSERT INTO out_recipient (message, number) VALUES (999, '+x')")
    send(store, "+2")
    results = await asyncio.gather(store.commit(), store.commit(), return_exceptions=True)
    assert all(isinstance(r, StoreError) for r in results)
    assert not store.writable() and not store.dirty
    assert len(store.views.recent(direction="out", state=None, limit=10)) == 1  # +2 rolled back
    send(store, "+3")
    await store.commit()
    assert store.writable()


async def test_a_failed_commit_now_fails_the_pending_group_commit_too(store: Store) -> None:
    """A waiter of commit() whose rows a failing synchronous commit_now() rolled back must not hear success
    (it would go on to delete the SMS from the SIM, or answer 202)."""
    store.db.execute("BEGIN IMMEDIATE")
    store.db.execute("PRAGMA defer_foreign_keys = ON")  # the violation below surfaces at COMMIT
    store.db.execute("INSERT INTO out_recipient (message, number) VALUES (999, '+x')")
    send(store, "+1")
    waiter = store.commit()  # bound to the open transaction; its group COMMIT is not yet flushed
    with pytest.raises(StoreError):
        store.commit_now()  # another coroutine commits synchronously in the same iteration
    with pytest.raises(StoreError):
        await waiter
    assert store.views.recent(direction="out", state=None, limit=10) == []


def test_close_without_commit_loses_only_uncommitted(db_path: Path) -> None:
    s = Store(db_path)
    kept = send(s, "+1", client_id="kept")
    s.commit_now()
    lost = send(s, "+2", client_id="lost")
    s.close(commit=False)
    s2 = Store(db_path)
    assert s2.views.outbound(kept) is not None and s2.views.outbound(lost) is None
    s2.close()


def test_process_killed_keeps_committed_and_drops_uncommitted(db_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from modembridge.model import SendRequest
        from modembridge.store import Store, PartFields
        s = Store({str(db_path)!r})
        s.outbox.add(SendRequest(recipients=("+1",), text="a", client_id="committed"),
                       {{"+1": [("AA", 1)]}}, encoding="gsm7", now=1.0, expires_at=None)
        s.inbox.add_part(modem_id="g", mem="SM", index=1, pdu="0011", received_at=1.0,
                           part=PartFields(sender="+9", text="in", encoding="gsm7"), error=None)
        s.commit_now()
        s.outbox.add(SendRequest(recipients=("+2",), text="b", client_id="uncommitted"),
                       {{"+2": [("BB", 1)]}}, encoding="gsm7", now=2.0, expires_at=None)
        print("ready", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9 and proc.stdout.strip() == "ready", proc.stderr
    s = Store(db_path)
    out = s.views.recent(direction="out", state=None, limit=10)
    assert [m.client_id for m in out] == ["committed"]
    assert [m.text for m in s.inbox.due(10.0, 10)] == ["in"]
    # the re-read PDU after the crash is recognised
    assert s.inbox.add_part(
        modem_id="g", mem="SM", index=1, pdu="0011", received_at=5.0, part=None, error=None
    ).duplicate
    s.close()


def test_migrate_from_version_1(db_path: Path) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    migrate(db, target=1)
    assert version(db) == 1
    db.executescript("""
        BEGIN;
        INSERT INTO out_message (message_id, client_id, source, text, encoding, parts, status_report, flash,
            dlr_mask, created_at) VALUES ('m1', 'c1', 'api', 'old', 'gsm7', 1, 0, 0, 0, 1.0);
        INSERT INTO out_recipient (message, number) VALUES (1, '+1');
        INSERT INTO out_part (message, recipient, seq, total, pdu, tpdu_length, state, next_attempt_at,
            updated_at) VALUES (1, 1, 1, 1, 'AA', 1, 'queued', 1.0, 1.0);
        INSERT INTO in_message (message_id, modem_id, sender, state, created_at, received_at, ready_at,
            next_attempt_at) VALUES ('i1', 'gsm0', '+9', 'received', 1.0, 1.0, 1.0, 1.0);
        INSERT INTO in_part (message, modem_id, mem, idx, pdu, pdu_sha256, received_at, text)
            VALUES (1, 'gsm0', 'SM', 1, '00', 'x', 1.0, 'hi');
        COMMIT;
    """)
    db.close()
    s = Store(db_path)
    assert version(s.db) == SCHEMA_VERSION
    p = s.outbox.claim_next_part("gsm0", 2.0)
    assert p is not None and p.message_id == "m1"
    s.outbox.mark_sending(p.part_id, 2.0)
    s.outbox.mark_sent(p.part_id, 3, 2.0)
    s.reports.record(p.part_id, status=0, final=True, now=3.0, raw_pdu="07")  # a v2 column
    assert [m.message_id for m in s.inbox.due(2.0, 5)] == ["i1"]
    from .test_reports import _event

    assert s.reports.add_callback(_event(), 3.0) == 1  # a v2 table
    s.close()


def test_newer_schema_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    db = sqlite3.connect(db_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaError):
        Store(db_path)


def test_reopen_is_idempotent(db_path: Path) -> None:
    s = Store(db_path)
    add_part(s, "+1", "x", now=1.0)
    s.close()
    s = Store(db_path)
    assert len(s.inbox.due(2.0, 5)) == 1 and s.writable()
    s.close()


def test_migrate_from_version_2_with_an_index_already_present(db_path: Path) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    migrate(db, target=2)
    db.execute("CREATE INDEX out_part_recipient ON out_part(recipient, seq)")
    db.close()
    s = Store(db_path)
    assert version(s.db) == SCHEMA_VERSION
    names = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"out_part_recipient", "in_message_concat"} <= names
    s.close()


async def test_close_resolves_a_scheduled_commit(db_path: Path) -> None:
    s = Store(db_path)
    send(s, "+1", client_id="x")
    waiter = s.commit()  # its group COMMIT is scheduled, not yet flushed
    s.close()
    await waiter  # committed by close()
    s2 = Store(db_path)
    assert len(s2.views.recent(direction="out", state=None, limit=5)) == 1
    send(s2, "+2")
    waiter = s2.commit()
    s2.close(commit=False)
    with pytest.raises(StoreError):
        await waiter
    await asyncio.sleep(0)  # the scheduled flush finds nothing to do on the closed file
