"""Schema of the journal, versioned with ``PRAGMA user_version``: one migration per version, applied in order.

Never edit a released migration: append a new one. Each runs in one transaction with its version bump.
"""

from __future__ import annotations

import sqlite3

# MIGRATIONS[i] takes a file from version i to version i + 1.
MIGRATIONS: tuple[str, ...] = (
    # v1: inbox, outbox, parts
    """
    CREATE TABLE in_message (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        modem_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        concat_ref INTEGER,
        concat_total INTEGER NOT NULL DEFAULT 1,
        concat_bits INTEGER,
        encoding TEXT NOT NULL DEFAULT 'gsm7',
        state TEXT NOT NULL,            -- assembling | received | delivered | rejected | dead | undecodable
                                        -- (v8: | discarded | indication | replaced)
        incomplete INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,       -- first part read
        received_at REAL NOT NULL,      -- last part read
        ready_at REAL,                  -- became deliverable
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        done_at REAL
    );
    CREATE INDEX in_message_due ON in_message(next_attempt_at) WHERE state = 'received';
    CREATE INDEX in_message_sender ON in_message(sender) WHERE state = 'received';
    CREATE INDEX in_message_assembling ON in_message(modem_id, sender, concat_ref, concat_total, concat_bits)
        WHERE state = 'assembling';
    CREATE INDEX in_message_assembling_age ON in_message(created_at) WHERE state = 'assembling';
    CREATE INDEX in_message_state ON in_message(state);

    CREATE TABLE in_part (
        id INTEGER PRIMARY KEY,
        message INTEGER NOT NULL REFERENCES in_message(id),
        modem_id TEXT NOT NULL,
        mem TEXT NOT NULL,
        idx INTEGER NOT NULL,
        pdu TEXT NOT NULL,
        pdu_sha256 TEXT NOT NULL,
        received_at REAL NOT NULL,
        seq INTEGER NOT NULL DEFAULT 1,
        text TEXT,
        data BLOB,
        encoding TEXT,
        smsc TEXT,
        smsc_time REAL,
        message_class INTEGER,
        error TEXT,
        duplicate INTEGER NOT NULL DEFAULT 0,   -- same seq again with a different PDU but the same content
        UNIQUE (modem_id, pdu_sha256)
    );
    CREATE INDEX in_part_message ON in_part(message, seq);

    CREATE TABLE out_message (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        client_id TEXT UNIQUE,
        source TEXT NOT NULL,
        text TEXT NOT NULL,
        sender TEXT,
        encoding TEXT NOT NULL,
        parts INTEGER NOT NULL,
        status_report INTEGER NOT NULL,
        validity INTEGER,
        flash INTEGER NOT NULL,
        pinned_modem TEXT,
        dlr_url TEXT,
        dlr_mask INTEGER NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL
    );
    CREATE TABLE out_recipient (
        id INTEGER PRIMARY KEY,
        message INTEGER NOT NULL REFERENCES out_message(id),
        number TEXT NOT NULL,
        assigned_modem TEXT
    );
    CREATE INDEX out_recipient_message ON out_recipient(message);
    CREATE TABLE out_part (
        id INTEGER PRIMARY KEY,
        message INTEGER NOT NULL REFERENCES out_message(id),
        recipient INTEGER NOT NULL REFERENCES out_recipient(id),
        pinned_modem TEXT,             -- copy of out_message.pinned_modem (routing index)
        assigned_modem TEXT,           -- copy of out_recipient.assigned_modem (routing index)
        expires_at REAL,               -- copy of out_message.expires_at
        seq INTEGER NOT NULL,
        total INTEGER NOT NULL,
        pdu TEXT NOT NULL,
        tpdu_length INTEGER NOT NULL,
        state TEXT NOT NULL,           -- queued | sending | sent | failed | unknown
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        resent_after_unknown INTEGER NOT NULL DEFAULT 0,
        mr INTEGER,
        modem_id TEXT,
        last_error TEXT,
        sent_at REAL,
        updated_at REAL NOT NULL,
        dlr_state TEXT,                -- pending | delivered | failed
        dlr_status INTEGER,
        dlr_at REAL
    );
    CREATE INDEX out_part_message ON out_part(message, recipient, seq);
    CREATE INDEX out_part_assigned ON out_part(assigned_modem, next_attempt_at)
        WHERE state = 'queued' AND assigned_modem IS NOT NULL;
    CREATE INDEX out_part_unassigned ON out_part(pinned_modem, next_attempt_at)
        WHERE state = 'queued' AND assigned_modem IS NULL;
    CREATE INDEX out_part_sending ON out_part(state) WHERE state = 'sending';
    CREATE INDEX out_part_mr ON out_part(modem_id, mr, sent_at) WHERE mr IS NOT NULL;
    """,
    # v2: delivery-report callbacks become a journal of their own (retried, visible); raw report PDUs kept
    """
    ALTER TABLE out_part ADD COLUMN dlr_raw TEXT;
    CREATE TABLE dlr_callback (
        id INTEGER PRIMARY KEY,
        url_template TEXT NOT NULL,
        status INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        modem_id TEXT NOT NULL,
        smsc_message_id TEXT NOT NULL,
        at REAL NOT NULL,
        reply TEXT NOT NULL,
        part INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        state TEXT NOT NULL,           -- pending | done | dead
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_detail TEXT,
        created_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX dlr_callback_due ON dlr_callback(next_attempt_at) WHERE state = 'pending';
    CREATE INDEX dlr_callback_message ON dlr_callback(message_id);
    """,
    # v3: failures counted for the order-per-sender hold separately from attempts; indexes for assigning /
    # releasing a recipient's parts and for recognising a part resent after its message was completed
    # (IF NOT EXISTS: development files made before v3 may have the first one)
    """
    ALTER TABLE in_message ADD COLUMN hold_failures INTEGER NOT NULL DEFAULT 0;  -- failures that count
        -- towards releasing the sender's later messages (failures during a router outage do not count)
    UPDATE in_message SET hold_failures = attempts WHERE state = 'received';
    CREATE INDEX IF NOT EXISTS out_part_recipient ON out_part(recipient, seq);
    CREATE INDEX IF NOT EXISTS in_message_concat
        ON in_message(modem_id, sender, concat_ref, concat_total, concat_bits, created_at)
        WHERE concat_ref IS NOT NULL;
    """,
    # v4: the periodic expiry sweep (parts waiting for a modem that never came back)
    """
    CREATE INDEX out_part_expiry ON out_part(expires_at) WHERE state = 'queued';
    """,
    # v5: what a modem driver remembers across restarts (the SIM it last saw, a PIN the SIM rejected)
    """
    CREATE TABLE modem_fact (
        modem_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (modem_id, key)
    );
    """,
    # v6: a message's text as the bridge reassembled it (decoded once, from the parts' PDUs together, so a
    # character split across parts comes out whole); NULL until set (rows of older versions: the bridge
    # fills those still to be delivered at start-up)
    """
    ALTER TABLE in_message ADD COLUMN text TEXT;
    ALTER TABLE in_part ADD COLUMN tpdu_length INTEGER;  -- as the modem printed it (tells whether the PDU
        -- carries the SMSC prefix, which some modems leave out); NULL: not known
    """,
    # v7: what a send with a client id asked for (SendRequest.fingerprint), so the id sent again with other
    # content is a conflict, not a duplicate (NULL without a client id, and for older rows: taken as the same)
    """
    ALTER TABLE out_message ADD COLUMN request_sha256 TEXT;
    """,
    # v8: what an inbound part carries besides its text (for 8-bit data, ports, replace types), and why a
    # message was not delivered (a silent Type 0 SMS, a message waiting indication, a replaced message)
    """
    ALTER TABLE in_part ADD COLUMN pid INTEGER;
    ALTER TABLE in_part ADD COLUMN udh BLOB;   -- IEs other than concatenation, as in the PDU
    ALTER TABLE in_part ADD COLUMN dst_port INTEGER;
    ALTER TABLE in_part ADD COLUMN src_port INTEGER;
    ALTER TABLE in_message ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE in_message ADD COLUMN note TEXT;
    CREATE INDEX in_message_replace ON in_message(modem_id, sender, pid) WHERE pid BETWEEN 65 AND 71;
    """,
    # v9: what each modem sent, for its pacing and quotas: parts per local calendar day, the last send, and
    # the distinct recipients of each calendar month (written with the part's 'sending' mark)
    """
    CREATE TABLE modem_usage (
        modem_id TEXT PRIMARY KEY,
        day TEXT NOT NULL,              -- local calendar day of day_parts, YYYY-MM-DD
        day_parts INTEGER NOT NULL,
        last_send_at REAL
    );
    CREATE TABLE modem_recipient (
        modem_id TEXT NOT NULL,
        month TEXT NOT NULL,            -- local calendar month, YYYY-MM
        number TEXT NOT NULL,
        PRIMARY KEY (modem_id, month, number)
    ) WITHOUT ROWID;
    """,
    # v10: missed (rejected or ignored) voice calls, and their delivery to [router] call_url
    """
    CREATE TABLE missed_call (
        id INTEGER PRIMARY KEY,
        modem_id TEXT NOT NULL,
        number TEXT,                    -- the caller (+CLIP); NULL: withheld or not given
        at REAL NOT NULL,               -- the first RING
        action TEXT NOT NULL,           -- rejected | ignored
        state TEXT NOT NULL,            -- pending (for call_url) | done | dead | kept (no call_url)
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_detail TEXT
    );
    CREATE INDEX missed_call_due ON missed_call(next_attempt_at) WHERE state = 'pending';
    """,
    # v11: each message's story as it happened (each AT+CMGS attempt and its outcome, each router attempt,
    # each status report), for the console's timeline; written in the transaction of the state it explains
    """
    CREATE TABLE message_event (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        at REAL NOT NULL,
        kind TEXT NOT NULL,             -- attempt | sent | retry | failed | unknown | router | report
        detail TEXT NOT NULL
    );
    CREATE INDEX message_event_message ON message_event(message_id, id);
    """,
    # v12: fleet mode. A message taken from the fleet's shared queue keeps its job id; each part keeps the
    # state the queue last heard of it (NULL: a local message), so what the queue has not heard is found
    # by one index. A part handed back to the queue (or taken over by another host) becomes 'moved'.
    """
    ALTER TABLE out_recipient ADD COLUMN fleet_job TEXT;
    CREATE UNIQUE INDEX out_recipient_fleet_job ON out_recipient(fleet_job) WHERE fleet_job IS NOT NULL;
    ALTER TABLE out_part ADD COLUMN fleet_state TEXT;
    ALTER TABLE out_part ADD COLUMN fleet_attempt INTEGER;  -- the queue's attempt number of its last fence
    CREATE INDEX out_part_fleet_unsynced ON out_part(id)
        WHERE fleet_state IS NOT NULL AND fleet_state <> state AND state NOT IN ('sending', 'moved');
    """,
)

VERSION = len(MIGRATIONS)


class SchemaError(Exception):
    """The file's schema is newer than this code knows (a downgrade), or a migration failed."""


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, target: int = VERSION) -> int:
    """Bring the file up to `target`; returns the version it had. `db` must be in autocommit mode."""
    current = version(db)
    if current > VERSION:
        raise SchemaError(f"journal schema version {current} is newer than this modembridge ({VERSION})")
    for v in range(current, target):
        try:
            db.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[v]}\nPRAGMA user_version = {v + 1};\nCOMMIT;")
        except sqlite3.Error as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {v + 1} failed: {e}") from e
    return current
