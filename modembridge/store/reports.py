"""Delivery reports: matching status reports to sent parts, and the dlr-url callback journal."""

from __future__ import annotations

import re
from typing import cast

from modembridge.config import RetryPolicy
from modembridge.model import DeliveryReportEvent, DlrStatus
from modembridge.retry import exhausted

from .journal import Journal, Part, atomic, utc
from .types import MatchedPart, PartProgress, UnknownMessageError

_NON_DIGITS = re.compile(r"\D")


def same_number(a: str, b: str, digits: int = 9) -> bool:
    """Numbers equal by their trailing digits (networks rewrite +254712... as 0712...)."""
    da, db = _NON_DIGITS.sub("", a), _NON_DIGITS.sub("", b)
    if not da or not db:
        return True  # a report without a usable number: the reference alone decides
    n = min(len(da), len(db), digits)
    return da[-n:] == db[-n:]


def dlr_state(status: int, final: bool) -> str:
    """TP-ST (23.040 9.2.3.15): 0x00-0x1F completed (delivered), else failed when final, else pending."""
    if not final:
        return "pending"
    return "delivered" if status < 0x20 else "failed"


class Reports(Part):
    def __init__(self, journal: Journal, *, dlr_window: float = 3 * 86400.0) -> None:
        super().__init__(journal)
        self.dlr_window = dlr_window  # how far back a status report may match a sent part

    def match(self, modem_id: str, mr: int, recipient: str, now: float) -> MatchedPart | None:
        """The latest part sent on modem_id with reference mr to that recipient, within the window."""
        for row in self._db.execute(
                "SELECT p.id, p.seq, p.total, p.mr, p.modem_id, p.sent_at, r.number, m.message_id,"
                " m.status_report, m.dlr_url, m.dlr_mask FROM out_part p INDEXED BY out_part_mr"
                " JOIN out_recipient r ON r.id = p.recipient JOIN out_message m ON m.id = p.message"
                " WHERE p.mr IS NOT NULL AND p.modem_id = ? AND p.mr = ? AND p.sent_at >= ?"
                " ORDER BY p.sent_at DESC, p.id DESC LIMIT 50", (modem_id, mr, now - self.dlr_window)):
            if same_number(row["number"], recipient):
                return MatchedPart(
                    part_id=row["id"], message_id=row["message_id"], recipient=row["number"], seq=row["seq"],
                    total=row["total"], modem_id=row["modem_id"], mr=row["mr"], sent_at=row["sent_at"],
                    status_report=bool(row["status_report"]), dlr_url=row["dlr_url"],
                    dlr_mask=row["dlr_mask"])
        return None

    def sending_on(self, modem_id: str) -> bool:
        """A part of this modem is inside AT+CMGS, its outcome (and reference) not yet recorded."""
        return self._db.execute("SELECT 1 FROM out_part INDEXED BY out_part_sending WHERE state = 'sending'"
                                " AND modem_id = ? LIMIT 1", (modem_id,)).fetchone() is not None

    @atomic
    def record(self, part_id: int, *, status: int, final: bool, now: float,
                             raw_pdu: str) -> str | None:
        """Keep the report on its part; a later pending report does not undo a final one. Returns the
        part's report state before (None: none yet)."""
        self._begin()
        before = self._db.execute("SELECT dlr_state FROM out_part WHERE id = ?", (part_id,)).fetchone()
        if before is None:
            raise UnknownMessageError(f"outbound part {part_id}")
        self._db.execute(
            "UPDATE out_part SET dlr_status = ?, dlr_state = ?, dlr_at = ?, dlr_raw = ? WHERE id = ?"
            " AND (? OR dlr_state IS NULL OR dlr_state = 'pending')",
            (status, dlr_state(status, final), now, raw_pdu, part_id, int(final)))
        return cast(str | None, before[0])

    def siblings(self, part_id: int) -> list[PartProgress]:
        """Every part of the same message to the same recipient (this one included), in seq order: what
        a per-message delivery report is decided from."""
        return [PartProgress(r["seq"], r["state"], r["dlr_state"]) for r in self._db.execute(
            "SELECT p.seq, p.state, p.dlr_state FROM out_part p INDEXED BY out_part_recipient"
            " WHERE p.recipient = (SELECT recipient FROM out_part WHERE id = ?) ORDER BY p.seq, p.id",
            (part_id,))]

    @atomic
    def add_callback(self, event: DeliveryReportEvent, now: float) -> int:
        """Journal a dlr-url callback to make; returns its id. Due at once (once committed)."""
        txn = self._begin()
        cur = self._db.execute(
            "INSERT INTO dlr_callback (url_template, status, message_id, recipient, modem_id,"
            " smsc_message_id, at, reply, part, parts, state, next_attempt_at, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
            (event.url_template, int(event.status), event.message_id, event.recipient, event.modem_id,
             event.smsc_message_id, event.at.timestamp(), event.reply, event.part, event.parts, now, now))
        callback_id = int(cur.lastrowid or 0)
        txn.fresh_callbacks.add(callback_id)
        return callback_id

    def due_callbacks(self, now: float, limit: int) -> list[tuple[int, DeliveryReportEvent]]:
        """Pending callbacks due at `now`, oldest first; those added in the open transaction wait for it."""
        txn = self.journal.transaction
        fresh = txn.fresh_callbacks if txn is not None else set()
        rows = self._db.execute(
            "SELECT * FROM dlr_callback INDEXED BY dlr_callback_due WHERE state = 'pending'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            (now, limit + len(fresh))).fetchall()
        rows = [r for r in rows if r["id"] not in fresh][:limit]
        return [(r["id"], DeliveryReportEvent(
            url_template=r["url_template"], status=DlrStatus(r["status"]), message_id=r["message_id"],
            recipient=r["recipient"], modem_id=r["modem_id"], smsc_message_id=r["smsc_message_id"],
            at=utc(r["at"]), reply=r["reply"], part=r["part"], parts=r["parts"])) for r in rows]

    def next_callback_due_at(self) -> float | None:
        row = self._db.execute(
            "SELECT min(next_attempt_at) FROM dlr_callback WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    @atomic
    def mark_callback(self, callback_id: int, now: float, *, done: bool, detail: str,
                          policy: RetryPolicy) -> None:
        """done: finished (any final answer); else retried with backoff until policy.max_attempts ('dead')."""
        row = self._db.execute("SELECT attempts FROM dlr_callback WHERE id = ?", (callback_id,)).fetchone()
        if row is None:
            raise UnknownMessageError(f"dlr callback {callback_id}")
        attempts = row[0] + 1
        self._begin()
        if done:
            self._db.execute("UPDATE dlr_callback SET state = 'done', attempts = ?, last_detail = ?,"
                             " done_at = ?, next_attempt_at = NULL WHERE id = ?",
                             (attempts, detail, now, callback_id))
        elif exhausted(policy, attempts):
            self._db.execute("UPDATE dlr_callback SET state = 'dead', attempts = ?, last_detail = ?,"
                             " done_at = ?, next_attempt_at = NULL WHERE id = ?",
                             (attempts, detail, now, callback_id))
        else:
            due = now + self.journal.backoff(policy, attempts)
            self._db.execute("UPDATE dlr_callback SET attempts = ?, last_detail = ?, next_attempt_at = ?"
                             " WHERE id = ?", (attempts, detail, due, callback_id))
