"""Inbox: inbound parts, their grouping into messages, delivery to the router in order per sender.

The journal groups parts (which message a part belongs to, duplicates, completion) but never decodes: the
caller (the bridge) gives each part's decoded fields and sets a completed message's text
(:meth:`Inbox.set_text`), decoded once from the parts' PDUs together.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Collection
from typing import Literal, cast

from modembridge.config import RetryPolicy
from modembridge.model import Encoding, InboundMessage
from modembridge.retry import exhausted

from .grouping import PART_SPREAD, RESEND_WINDOW, Group, GroupedPart, Verdict, place
from .journal import Journal, Part, atomic, utc
from .types import ConcatKey, InboundPartResult, PartFields, StoredPart, UnknownMessageError

REPLACE_PIDS = (0x41, 0x47)  # TP-PID: replace short message types 1-7
KEPT_STATE = {"discard": "discarded", "indication": "indication", "selftest": "selftest"}  # not delivered

# A message is held back while an older 'received' message of the same sender has failed fewer than
# :hold times (order per sender, but one failing message cannot block a sender forever). Failures during
# a router outage (the delivery loop's breaker is open) do not count, so order survives an outage.
_BLOCKER = """
    SELECT 1 FROM in_message o INDEXED BY in_message_sender
    WHERE o.state = 'received' AND o.sender = m.sender AND o.id < m.id AND o.hold_failures < :hold
"""


class Inbox(Part):
    def __init__(self, journal: Journal, *, order_hold_attempts: int = 5,
                 dedupe_window: float = 3600.0, resend_window: float = RESEND_WINDOW,
                 part_spread: float = PART_SPREAD) -> None:
        super().__init__(journal)
        self.order_hold_attempts = order_hold_attempts
        self.dedupe_window = dedupe_window  # how long after its message began a part may still be a resend
        self.resend_window = resend_window  # see grouping.py
        self.part_spread = part_spread

    @atomic
    def add_part(self, *, modem_id: str, mem: str, index: int, pdu: str, received_at: float,
                         part: PartFields | None, error: str | None,
                         unusable: Literal["undecodable", "unmatched"] = "undecodable") -> InboundPartResult:
        """Journal one PDU read from a modem (idempotent per modem and PDU) and group it with its message.

        A single-part message gets the part's text; a concatenated one that became complete needs its text
        set (set_text) before the transaction commits. `part` None: a PDU kept raw with `error`, in state
        `unusable` ('unmatched': a status report that matched no sent part).
        """
        db = self._db
        pdu = pdu.strip().upper()
        sha = _pdu_sha256(pdu)
        self._begin()
        row = db.execute(
            "SELECT p.id, m.message_id, m.state FROM in_part p JOIN in_message m ON m.id = p.message"
            " WHERE p.modem_id = ? AND p.pdu_sha256 = ?", (modem_id, sha)).fetchone()
        if row is not None:
            return InboundPartResult(row["id"], row["message_id"], True, row["state"] != "assembling")

        if part is None:  # unusable: kept with its raw PDU and the error, visible, never delivered
            mid = self._new_in_message(modem_id, "", None, 1, None, "8bit", unusable, received_at)
            db.execute("UPDATE in_message SET last_error = ? WHERE id = ?", (error or unusable, mid))
            pid = self._insert_in_part(mid, modem_id, mem, index, pdu, sha, received_at, 1, None,
                                       error or unusable, False)
            return InboundPartResult(pid, self._in_message_id(mid), False, False)

        if part.disposition != "deliver":  # kept visible with the reason, never delivered
            state = KEPT_STATE[part.disposition]
            mid = self._new_in_message(modem_id, part.sender, None, 1, None, part.encoding, state,
                                       received_at, text=part.text, pid=part.pid)
            db.execute("UPDATE in_message SET note = ?, done_at = ? WHERE id = ?",
                       (part.note, received_at, mid))
            pid = self._insert_in_part(mid, modem_id, mem, index, pdu, sha, received_at, 1, part, error,
                                       False)
            return InboundPartResult(pid, self._in_message_id(mid), False, False)

        concat = ConcatKey(*part.concat) if part.concat is not None else None
        if concat is None or concat.total <= 1:
            message_id = _single_part_id(modem_id, sha)
            mid = self._new_in_message(modem_id, part.sender, None, 1, None, part.encoding, "assembling",
                                       received_at, message_id, text=part.text, pid=part.pid)
            pid = self._insert_in_part(mid, modem_id, mem, index, pdu, sha, received_at, 1, part, error,
                                       False)
            replaced = self._replace_earlier(mid, modem_id, part.sender, part.pid, received_at, message_id)
            self._make_ready(mid, part.sender, received_at, message_id)
            return InboundPartResult(pid, message_id, False, True, replaced=replaced)

        key = (modem_id, part.sender, concat.ref, concat.total, concat.ref_bits)
        this = GroupedPart(concat.seq, part.text, part.data, part.smsc_time)
        placement = place(this, self._groups(key, received_at), resend_window=self.resend_window,
                          part_spread=self.part_spread)
        if placement.verdict is Verdict.RESEND:
            assert placement.group is not None
            mid = placement.group
            pid = self._insert_in_part(mid, modem_id, mem, index, pdu, sha, received_at, concat.seq, part,
                                       error, True)
            state = db.execute("SELECT state FROM in_message WHERE id = ?", (mid,)).fetchone()[0]
            return InboundPartResult(pid, self._in_message_id(mid), True, state != "assembling")
        if placement.verdict is Verdict.JOIN:
            assert placement.group is not None
            mid = placement.group
        else:
            mid = self._new_in_message(modem_id, part.sender, concat.ref, concat.total, concat.ref_bits,
                                       part.encoding, "assembling", received_at, pid=part.pid)
        pid = self._insert_in_part(mid, modem_id, mem, index, pdu, sha, received_at, concat.seq, part, error,
                                   False)
        db.execute("UPDATE in_message SET received_at = max(received_at, ?) WHERE id = ?", (received_at, mid))
        have = db.execute("SELECT count(DISTINCT seq) FROM in_part WHERE message = ? AND duplicate = 0"
                          " AND seq BETWEEN 1 AND ?", (mid, concat.total)).fetchone()[0]
        complete = have >= concat.total
        message_id = self._in_message_id(mid)
        replaced = 0
        if complete:
            replaced = self._replace_earlier(mid, modem_id, part.sender, part.pid, received_at, message_id)
            self._make_ready(mid, part.sender, received_at, message_id)
        return InboundPartResult(pid, message_id, False, complete, replaced=replaced)

    def early_delivery_id(self, modem_id: str, pdu: str, sender: str) -> str | None:
        """The id a new single-part message will be journalled under, if it may go to the router before
        add_part journals it (the inbound fast path, durability.md): its PDU is not journalled yet and no
        older message of its sender waits in line. None: journal it first."""
        sha = _pdu_sha256(pdu.strip().upper())
        known, blocked = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM in_part WHERE modem_id = ? AND pdu_sha256 = ?),"
            " EXISTS (SELECT 1 FROM in_message INDEXED BY in_message_sender WHERE state = 'received'"
            " AND sender = ? AND hold_failures < ?)",
            (modem_id, sha, sender, self.order_hold_attempts)).fetchone()
        return None if known or blocked else _single_part_id(modem_id, sha)

    def _replace_earlier(self, rowid: int, modem_id: str, sender: str, pid: int, now: float,
                         message_id: str) -> int:
        """A replace-type message (TP-PID 0x41-0x47, 23.040 9.2.3.9) takes the place of earlier ones with
        the same sender and PID on the same SIM that the router has not had yet; returns how many."""
        if not REPLACE_PIDS[0] <= pid <= REPLACE_PIDS[1]:
            return 0
        cur = self._db.execute(
            "UPDATE in_message INDEXED BY in_message_replace SET state = 'replaced', next_attempt_at = NULL,"
            " done_at = ?, note = ? WHERE modem_id = ? AND sender = ? AND pid = ? AND pid BETWEEN 65 AND 71"
            " AND state = 'received' AND id < ?",
            (now, f"replaced by {message_id} (TP-PID 0x{pid:02X})", modem_id, sender, pid, rowid))
        return cur.rowcount

    def _groups(self, key: tuple[str, str, int, int, int], now: float) -> list[Group]:
        """The messages a part with this concat key may belong to, oldest first: those assembling, and
        those complete (or released) that began within the dedupe window (a resend of a part of theirs)."""
        rows = self._db.execute(
            "SELECT id, 1 AS assembling FROM in_message INDEXED BY in_message_assembling"
            " WHERE state = 'assembling' AND modem_id = ? AND sender = ? AND concat_ref = ?"
            " AND concat_total = ? AND concat_bits = ?", key).fetchall()
        rows += self._db.execute(
            "SELECT m.id, 0 AS assembling FROM in_message m INDEXED BY in_message_concat"
            " WHERE m.concat_ref IS NOT NULL AND m.modem_id = ? AND m.sender = ? AND m.concat_ref = ?"
            " AND m.concat_total = ? AND m.concat_bits = ? AND m.created_at >= ? AND m.state != 'assembling'"
            " ORDER BY m.created_at DESC LIMIT 8", (*key, now - self.dedupe_window)).fetchall()
        groups = []
        for row in sorted(rows, key=lambda r: int(r["id"])):
            parts = tuple(GroupedPart(p["seq"], p["text"], p["data"], p["smsc_time"]) for p in
                          self._db.execute("SELECT seq, text, data, smsc_time FROM in_part WHERE message = ?"
                                           " AND duplicate = 0", (row["id"],)))
            groups.append(Group(int(row["id"]), bool(row["assembling"]), parts))
        return groups

    def _new_in_message(self, modem_id: str, sender: str, ref: int | None, total: int, bits: int | None,
                        encoding: str, state: str, now: float, message_id: str | None = None,
                        text: str | None = None, pid: int = 0) -> int:
        cur = self._db.execute(
            "INSERT INTO in_message (message_id, modem_id, sender, concat_ref, concat_total, concat_bits,"
            " encoding, state, created_at, received_at, text, pid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (message_id or uuid.uuid4().hex, modem_id, sender, ref, total, bits, encoding, state, now, now,
             text, pid))
        return cast(int, cur.lastrowid)

    def _insert_in_part(self, mid: int, modem_id: str, mem: str, index: int, pdu: str, sha: str,
                        received_at: float, seq: int, part: PartFields | None, error: str | None,
                        duplicate: bool) -> int:
        decoded: tuple[object, ...] = (None,) * 11  # an undecodable PDU: only the raw PDU and the error
        if part is not None:
            decoded = (part.text, part.data, part.encoding, part.smsc, part.smsc_time, part.message_class,
                       part.tpdu_length, part.pid, part.udh or None, *(part.ports or (None, None)))
        cur = self._db.execute(
            "INSERT INTO in_part (message, modem_id, mem, idx, pdu, pdu_sha256, received_at, seq, error,"
            " duplicate, text, data, encoding, smsc, smsc_time, message_class, tpdu_length, pid, udh,"
            " dst_port, src_port) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (mid, modem_id, mem, index, pdu, sha, received_at, seq, error, int(duplicate), *decoded))
        return cast(int, cur.lastrowid)

    def _in_message_id(self, rowid: int) -> str:
        return str(self._db.execute("SELECT message_id FROM in_message WHERE id = ?", (rowid,)).fetchone()[0])

    def _make_ready(self, rowid: int, sender: str, now: float, message_id: str,
                    incomplete: bool = False) -> None:
        """assembling -> received. Not due before the newest older blocking message of its sender."""
        prev = self._db.execute(
            "SELECT next_attempt_at FROM in_message INDEXED BY in_message_sender WHERE state = 'received'"
            " AND sender = ? AND id < ? AND hold_failures < ? ORDER BY id DESC LIMIT 1",
            (sender, rowid, self.order_hold_attempts)).fetchone()
        due = max(now, prev[0]) if prev is not None and prev[0] is not None else now
        self._db.execute("UPDATE in_message SET state = 'received', ready_at = ?, next_attempt_at = ?,"
                         " incomplete = ? WHERE id = ?", (now, due, int(incomplete), rowid))
        self._begin().fresh_inbound.add(message_id)

    @atomic
    def expire_incomplete(self, now: float, timeout: float) -> list[str]:
        """Concatenated messages still missing parts `timeout` seconds after their first part: deliverable
        with what arrived (their text is the caller's to set, as for a completed one)."""
        rows = self._db.execute(
            "SELECT id, message_id, sender FROM in_message INDEXED BY in_message_assembling_age"
            " WHERE state = 'assembling' AND created_at <= ? ORDER BY created_at",
            (now - timeout,)).fetchall()
        if rows:
            self._begin()
        for r in rows:
            self._make_ready(r["id"], r["sender"], now, r["message_id"], incomplete=True)
        return [r["message_id"] for r in rows]

    def next_reassembly_deadline(self, timeout: float) -> float | None:
        """When expire_incomplete(timeout) will next have work (None: nothing is being reassembled)."""
        row = self._db.execute("SELECT min(created_at) FROM in_message WHERE state = 'assembling'").fetchone()
        return None if row[0] is None else float(row[0]) + timeout

    def due(self, now: float, limit: int, order_hold_attempts: int | None = None,
                    exclude: Collection[str] = ()) -> list[InboundMessage]:
        """Deliverable messages due at `now`, oldest due first, in order per sender.

        A message is held while an older undelivered message of its sender has failed fewer than
        `order_hold_attempts` times. `exclude`: message ids already in flight (skipped, still blocking).
        Messages that became deliverable in the still open transaction are skipped too (not yet durable).
        """
        hold = self.order_hold_attempts if order_hold_attempts is None else order_hold_attempts
        txn = self.journal.transaction
        skip = set(exclude) | (txn.fresh_inbound if txn is not None else set())
        rows = self._db.execute(
            "SELECT m.* FROM in_message m INDEXED BY in_message_due WHERE m.state = 'received'"
            f" AND m.next_attempt_at <= :now AND NOT EXISTS ({_BLOCKER})"
            " ORDER BY m.next_attempt_at, m.id LIMIT :limit",
            {"now": now, "hold": hold, "limit": limit + len(skip)}).fetchall()
        out = [self._inbound_message(r) for r in rows if r["message_id"] not in skip]
        return out[:limit]

    def _inbound_message(self, m: sqlite3.Row) -> InboundMessage:
        parts = self._distinct_parts(m["id"])
        first = parts[0] if parts else None
        text = m["text"] if m["text"] is not None else "".join(p["text"] or "" for p in parts)
        binary = m["encoding"] == "8bit"
        return InboundMessage(
            message_id=m["message_id"], sender=m["sender"], text="" if binary else text,
            modem_id=m["modem_id"], received_at=utc(m["received_at"]),
            smsc_timestamp=utc(first["smsc_time"]) if first is not None and first["smsc_time"] is not None
            else None,
            parts=len(parts), total_parts=m["concat_total"], encoding=cast(Encoding, m["encoding"]),
            incomplete=bool(m["incomplete"]), smsc=first["smsc"] if first is not None else None,
            data=b"".join(p["data"] or b"" for p in parts) if binary else None,
            udh=bytes(first["udh"] or b"") if first is not None else b"",
            destination_port=first["dst_port"] if first is not None else None,
            source_port=first["src_port"] if first is not None else None,
            message_class=first["message_class"] if first is not None else None, pid=m["pid"])

    def _distinct_parts(self, rowid: int) -> list[sqlite3.Row]:
        """The decoded parts of a message, one per seq (the first journalled), in seq order."""
        rows = self._db.execute(
            "SELECT seq, text, data, smsc, smsc_time, pdu, tpdu_length, udh, dst_port, src_port,"
            " message_class FROM in_part WHERE message = ?"
            " AND duplicate = 0"
            " AND encoding IS NOT NULL ORDER BY seq, id", (rowid,)).fetchall()
        seen: dict[int, sqlite3.Row] = {}
        for p in rows:
            seen.setdefault(p["seq"], p)
        return [seen[k] for k in sorted(seen)]

    def parts_of(self, message_id: str) -> list[StoredPart]:
        """A message's parts, one per seq in seq order: what its text is decided from."""
        return [StoredPart(p["pdu"], p["tpdu_length"], p["text"])
                for p in self._distinct_parts(self._in_row(message_id)["id"])]

    @atomic
    def set_text(self, message_id: str, text: str) -> None:
        """The message's text, as the caller reassembled it."""
        self._begin()
        rowid = self._in_row(message_id)["id"]
        self._db.execute("UPDATE in_message SET text = ? WHERE id = ?", (text, rowid))

    def without_text(self) -> list[str]:
        """Deliverable messages whose text was never set (journalled by a version before schema 6)."""
        return [r[0] for r in self._db.execute(
            "SELECT message_id FROM in_message WHERE state = 'received' AND text IS NULL ORDER BY id")]

    def next_due_at(self, order_hold_attempts: int | None = None) -> float | None:
        """When due() will next return something (may be in the past); None when nothing waits."""
        hold = self.order_hold_attempts if order_hold_attempts is None else order_hold_attempts
        row = self._db.execute(
            "SELECT m.next_attempt_at FROM in_message m INDEXED BY in_message_due WHERE m.state = 'received'"
            f" AND NOT EXISTS ({_BLOCKER}) ORDER BY m.next_attempt_at, m.id LIMIT 1",
            {"hold": hold}).fetchone()
        return None if row is None else float(row[0])

    def state_of(self, message_id: str) -> str:
        return str(self._in_row(message_id)["state"])

    def _in_row(self, message_id: str) -> sqlite3.Row:
        row = self._db.execute("SELECT id, sender, attempts, hold_failures, state FROM in_message"
                               " WHERE message_id = ?",
                               (message_id,)).fetchone()
        if row is None:
            raise UnknownMessageError(message_id)
        return cast(sqlite3.Row, row)

    @atomic
    def mark_delivered(self, message_id: str, now: float) -> None:
        row = self._in_row(message_id)
        self._begin()
        self._db.execute("UPDATE in_message SET state = 'delivered', done_at = ?, next_attempt_at = NULL,"
                         " attempts = attempts + 1 WHERE id = ?", (now, row["id"]))

    @atomic
    def mark_rejected(self, message_id: str, now: float, detail: str) -> None:
        """The router refused it (4xx): kept and visible, not retried."""
        row = self._in_row(message_id)
        self._begin()
        self._db.execute("UPDATE in_message SET state = 'rejected', done_at = ?, next_attempt_at = NULL,"
                         " attempts = attempts + 1, last_error = ? WHERE id = ?", (now, detail, row["id"]))

    @atomic
    def mark_retry(self, message_id: str, now: float, detail: str,
                           policy: RetryPolicy, *, count_hold: bool = True) -> float | None:
        """A failed try: back off (returns when it is due again), or None when it became 'dead'.

        `count_hold=False` (the router is down for everyone, not refusing this message): the failure does
        not count towards `order_hold_attempts`, so an outage, however long, never releases a sender's
        later messages ahead of this one.
        """
        row = self._in_row(message_id)
        attempts = row["attempts"] + 1
        held = row["hold_failures"] + (1 if count_hold else 0)
        self._begin()
        if exhausted(policy, attempts):
            self._db.execute("UPDATE in_message SET state = 'dead', done_at = ?, next_attempt_at = NULL,"
                             " attempts = ?, last_error = ? WHERE id = ?", (now, attempts, detail, row["id"]))
            return None
        due = now + self.journal.backoff(policy, attempts)
        self._db.execute(
            "UPDATE in_message SET attempts = ?, hold_failures = ?, next_attempt_at = ?, last_error = ?"
            " WHERE id = ?", (attempts, held, due, detail, row["id"]))
        if held < self.order_hold_attempts:
            # newer messages of this sender wait behind it: keep them out of the due range until then
            self._db.execute(
                "UPDATE in_message INDEXED BY in_message_sender SET next_attempt_at = ?"
                " WHERE state = 'received' AND sender = ? AND id > ? AND next_attempt_at < ?",
                (due, row["sender"], row["id"], due))
        return due

    @atomic
    def retry(self, message_id: str, now: float) -> bool:
        """An operator's retry: a dead or rejected message is deliverable again, its failures forgotten."""
        row = self._db.execute("SELECT id, state FROM in_message WHERE message_id = ?",
                               (message_id,)).fetchone()
        if row is None or row["state"] not in ("dead", "rejected"):
            return False
        txn = self._begin()
        self._db.execute("UPDATE in_message SET state = 'received', attempts = 0, hold_failures = 0,"
                         " next_attempt_at = ?, done_at = NULL WHERE id = ?", (now, row["id"]))
        txn.fresh_inbound.add(message_id)
        return True


def _pdu_sha256(pdu: str) -> str:
    return hashlib.sha256(pdu.encode("ascii", "replace")).hexdigest()


def _single_part_id(modem_id: str, sha: str) -> str:
    """A single-part message's id, derived from the modem and the PDU: the same SMS read again after a
    crash (before its row was committed) gets the same id, so it may go to the router before the commit."""
    return hashlib.sha256(f"{modem_id}\n{sha}".encode()).hexdigest()[:32]
