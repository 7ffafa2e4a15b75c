"""Per-modem facts in the journal (modem_fact, schema v5) and JournalFacts, the modem drivers' memory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from modembridge.bridge.facts import JournalFacts
from modembridge.store import SCHEMA_VERSION, Store
from modembridge.store.schema import migrate, version


def test_set_get_delete(store: Store) -> None:
    assert store.facts.get("gsm0", "iccid") is None
    store.facts.set("gsm0", "iccid", "8901", 1.0)
    store.facts.set("gsm1", "iccid", "8902", 1.0)
    store.facts.set("gsm0", "imsi", "00101", 1.0)
    assert store.facts.get("gsm0", "iccid") == "8901"
    assert store.facts.get("gsm1", "iccid") == "8902"  # per modem
    assert store.facts.get("gsm0", "imsi") == "00101"  # per key
    store.facts.set("gsm0", "iccid", "8903", 2.0)  # overwrite
    assert store.facts.get("gsm0", "iccid") == "8903"
    store.facts.set("gsm0", "iccid", None, 3.0)  # None deletes
    assert store.facts.get("gsm0", "iccid") is None
    assert store.facts.get("gsm1", "iccid") == "8902" and store.facts.get("gsm0", "imsi") == "00101"
    store.facts.set("gsm0", "never-set", None, 3.0)  # deleting nothing is fine
    sql = "SELECT modem_id, key, value, updated_at FROM modem_fact ORDER BY modem_id, key"
    rows = store.db.execute(sql).fetchall()
    assert [tuple(r) for r in rows] == [("gsm0", "imsi", "00101", 1.0), ("gsm1", "iccid", "8902", 1.0)]


async def test_facts_survive_closing_and_reopening(db_path: Path) -> None:
    s = Store(db_path)
    s.facts.set("gsm0", "pin_rejected", "abc123", 1.0)
    s.facts.set("gsm0", "iccid", "8901", 1.0)
    await s.commit()
    s.facts.set("gsm0", "iccid", None, 2.0)
    await s.commit()
    s.facts.set("gsm0", "imsi", "uncommitted", 3.0)
    s.close(commit=False)
    s = Store(db_path)
    assert s.facts.get("gsm0", "pin_rejected") == "abc123"
    assert s.facts.get("gsm0", "iccid") is None  # the committed delete holds
    assert s.facts.get("gsm0", "imsi") is None  # never committed
    s.close()


def test_migration_from_version_4_keeps_data_and_adds_the_table(db_path: Path) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    migrate(db, target=4)
    assert version(db) == 4
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'modem_fact'").fetchone() is None
    db.executescript("""
        BEGIN;
        INSERT INTO out_message (message_id, client_id, source, text, encoding, parts, status_report, flash,
            dlr_mask, created_at) VALUES ('m1', 'c1', 'api', 'old', 'gsm7', 1, 0, 0, 0, 1.0);
        INSERT INTO out_recipient (message, number) VALUES (1, '+1');
        INSERT INTO out_part (message, recipient, seq, total, pdu, tpdu_length, state, next_attempt_at,
            updated_at) VALUES (1, 1, 1, 1, 'AA', 1, 'queued', 1.0, 1.0);
        COMMIT;
    """)
    db.close()
    s = Store(db_path)
    assert version(s.db) == SCHEMA_VERSION >= 5
    view = s.views.outbound("m1")
    assert view is not None and view.recipients[0].parts[0].state == "queued"
    assert s.facts.get("gsm0", "iccid") is None
    s.facts.set("gsm0", "iccid", "8901", 2.0)
    s.commit_now()
    s.close()
    s = Store(db_path)
    assert s.facts.get("gsm0", "iccid") == "8901" and s.views.outbound("m1") is not None
    s.close()


async def test_journal_memory_round_trip(db_path: Path) -> None:
    clock = iter([10.0, 20.0, 30.0])
    s = Store(db_path)
    memory = JournalFacts(s, "gsm0", clock=lambda: next(clock))
    other = JournalFacts(s, "gsm1", clock=lambda: 0.0)
    assert memory.recall("iccid") is None
    await memory.remember("iccid", "8901")
    await memory.remember("pin_rejected", "fp")
    assert memory.recall("iccid") == "8901" and other.recall("iccid") is None
    assert not s.dirty  # remember() commits before returning
    # a second connection on the same file (another process, or the next start) sees it
    reader = Store(db_path)
    assert JournalFacts(reader, "gsm0", clock=lambda: 0.0).recall("iccid") == "8901"
    row = reader.db.execute("SELECT updated_at FROM modem_fact WHERE key = 'pin_rejected'").fetchone()
    assert row[0] == 20.0
    await memory.remember("pin_rejected", None)
    assert reader.facts.get("gsm0", "pin_rejected") is None and reader.facts.get("gsm0", "iccid") == "8901"
    reader.close()
    s.close(commit=False)
