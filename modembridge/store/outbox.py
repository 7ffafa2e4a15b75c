"""Outbox: accepted sends, one row per recipient and per part; routing parts to modems; send states."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from typing import Literal, cast

from modembridge.model import ClientIdConflict, Encoding, SendAccepted, SendRequest

from .journal import Part, atomic
from .types import OutboundPart, UnknownMessageError

_PART_COLUMNS = """
    p.id, p.message, p.recipient, p.seq, p.total, p.pdu, p.tpdu_length, p.attempts, p.expires_at,
    p.next_attempt_at, p.resent_after_unknown, p.assigned_modem, r.number, m.message_id, m.status_report,
    m.dlr_url, m.dlr_mask, r.fleet_job
"""


class Outbox(Part):
    @atomic
    def add(self, request: SendRequest, pdus: Mapping[str, Sequence[tuple[str, int]]], *,
                     encoding: str, now: float, expires_at: float | None) -> SendAccepted:
        """Journal a send: pdus maps recipient -> [(pdu_hex, tpdu_length) per part].

        Idempotent on request.client_id: the same id again returns the first answer (duplicate=True)
        and writes nothing; the same id for a request with other content raises ClientIdConflict.
        """
        db = self._db
        fingerprint = request.fingerprint() if request.client_id is not None else None  # only ids conflict
        if request.client_id is not None:
            row = db.execute("SELECT id, message_id, encoding, parts, request_sha256 FROM out_message"
                             " WHERE client_id = ?", (request.client_id,)).fetchone()
            if row is not None:
                if row["request_sha256"] not in (None, fingerprint):
                    raise ClientIdConflict(request.client_id, row["message_id"])
                numbers = tuple(r[0] for r in db.execute(
                    "SELECT number FROM out_recipient WHERE message = ? ORDER BY id", (row["id"],)))
                return SendAccepted(row["message_id"], numbers, cast(Encoding, row["encoding"]), row["parts"],
                                    duplicate=True)
        recipients = tuple(dict.fromkeys(r for r in request.recipients if r in pdus)) or tuple(pdus)
        if not recipients:
            raise ValueError("a send needs at least one recipient")
        missing = [r for r in request.recipients if r not in pdus]
        if missing:
            raise ValueError(f"no PDUs for recipient(s) {', '.join(missing)}")
        parts = max(len(pdus[r]) for r in recipients)
        message_id = uuid.uuid4().hex
        self._begin()
        cur = db.execute(
            "INSERT INTO out_message (message_id, client_id, source, text, sender, encoding, parts,"
            " status_report, validity, flash, pinned_modem, dlr_url, dlr_mask, created_at, expires_at,"
            " request_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (message_id, request.client_id, request.source, request.text, request.sender, encoding, parts,
             int(request.status_report), request.validity, int(request.flash), request.modem, request.dlr_url,
             request.dlr_mask, now, expires_at, fingerprint))
        mrow = cur.lastrowid
        for number in recipients:
            rrow = db.execute("INSERT INTO out_recipient (message, number, assigned_modem) VALUES (?,?,NULL)",
                              (mrow, number)).lastrowid
            total = len(pdus[number])
            db.executemany(
                "INSERT INTO out_part (message, recipient, pinned_modem, expires_at, seq, total, pdu,"
                " tpdu_length, state, next_attempt_at, updated_at) VALUES (?,?,?,?,?,?,?,?,'queued',?,?)",
                [(mrow, rrow, request.modem, expires_at, seq, total, pdu, length, now, now)
                 for seq, (pdu, length) in enumerate(pdus[number], start=1)])
        return SendAccepted(message_id, recipients, cast(Encoding, encoding), parts)

    def _candidates(self, modem_id: str, now: float | None, known_in: str | None = None) -> list[sqlite3.Row]:
        """The first due queued part for modem_id by each route: assigned to it, unassigned and pinned to
        it, unassigned and unpinned. Each lookup is one range scan of a partial index. `known_in`: a month
        (the modem is at its recipient cap): unassigned parts only for numbers it sent to in that month."""
        due = "" if now is None else " AND p.next_attempt_at <= :now"
        known = "" if known_in is None else (
            " AND EXISTS (SELECT 1 FROM modem_recipient k WHERE k.modem_id = :modem AND k.month = :month"
            " AND k.number = r.number)")
        routes = (
            ("out_part_assigned", "p.assigned_modem IS NOT NULL AND p.assigned_modem = :modem"),
            ("out_part_unassigned", "p.assigned_modem IS NULL AND p.pinned_modem = :modem" + known),
            ("out_part_unassigned", "p.assigned_modem IS NULL AND p.pinned_modem IS NULL" + known),
        )
        out = []
        for index, route in routes:
            row = self._db.execute(
                f"SELECT {_PART_COLUMNS} FROM out_part p INDEXED BY {index}"
                " JOIN out_recipient r ON r.id = p.recipient JOIN out_message m ON m.id = p.message"
                f" WHERE p.state = 'queued' AND {route}{due} ORDER BY p.next_attempt_at, p.id LIMIT 1",
                {"modem": modem_id, "now": now, "month": known_in}).fetchone()
            if row is not None:
                out.append(row)
        return out

    @atomic
    def claim_next_part(self, modem_id: str, now: float, *,
                        known_in: str | None = None) -> OutboundPart | None:
        """The next part modem_id should send (its state is unchanged: call mark_sending next).

        Claiming a part of an unassigned recipient assigns the recipient to modem_id, so all its parts go
        through one modem. Parts past their message's expiry are failed ('expired') instead. `known_in`: a
        month; only recipients this modem already sent to in it (it reached its recipient cap).
        """
        while True:
            cands = self._candidates(modem_id, now, known_in)
            if not cands:
                return None
            row = min(cands, key=lambda r: (r["next_attempt_at"], r["id"]))
            expired = row["expires_at"] is not None and row["expires_at"] <= now
            if expired and not self._started(row["recipient"]):
                # expired: fail the queued parts of every recipient of the message that has not begun
                # receiving it (a handset holding part 1 still gets the rest: a fragment helps nobody)
                self._expire(now, row["message"])
                continue
            if row["assigned_modem"] is None:
                self._begin()
                self._db.execute("UPDATE out_recipient SET assigned_modem = ? WHERE id = ?",
                                 (modem_id, row["recipient"]))
                self._db.execute("UPDATE out_part SET assigned_modem = ? WHERE recipient = ?",
                                 (modem_id, row["recipient"]))
            return OutboundPart(
                part_id=row["id"], message_id=row["message_id"], recipient=row["number"], seq=row["seq"],
                total=row["total"], pdu=row["pdu"], tpdu_length=row["tpdu_length"], attempts=row["attempts"],
                status_report=bool(row["status_report"]), dlr_url=row["dlr_url"], dlr_mask=row["dlr_mask"],
                resent_after_unknown=bool(row["resent_after_unknown"]), modem_id=modem_id,
                fleet_job=row["fleet_job"])

    @atomic
    def expire(self, now: float) -> int:
        """Fail every queued part past its message's expiry, whichever modem it waits for (a modem that never
        comes back must not keep its queue forever); returns how many parts failed."""
        return self._expire(now, None)

    def _expire(self, now: float, message: int | None) -> int:
        """Expired queued parts (of `message`, or all) fail, except for recipients who already began receiving
        the message: a handset holding part 1 still gets the rest, a fragment helps nobody."""
        self._begin()
        cur = self._db.execute(
            "UPDATE out_part SET state = 'failed', last_error = 'expired', updated_at = :now,"
            " next_attempt_at = NULL WHERE (:message IS NULL OR message = :message) AND state = 'queued'"
            " AND expires_at <= :now"
            " AND NOT EXISTS (SELECT 1 FROM out_part s WHERE s.recipient = out_part.recipient"
            " AND s.state IN ('sending', 'sent', 'unknown'))", {"now": now, "message": message})
        return cur.rowcount

    def _started(self, recipient_row: int) -> bool:
        """Some part of this recipient was (maybe) sent already."""
        return self._db.execute(
            "SELECT 1 FROM out_part WHERE recipient = ? AND state IN ('sending', 'sent', 'unknown') LIMIT 1",
            (recipient_row,)).fetchone() is not None

    def next_due_at(self, modem_id: str, *, known_in: str | None = None) -> float | None:
        """When modem_id next has a part to send (may be in the past); None when nothing is queued for it."""
        cands = self._candidates(modem_id, None, known_in)
        return min(float(r["next_attempt_at"]) for r in cands) if cands else None

    @atomic
    def hold_for(self, modem_id: str, reason: str, until: float) -> int:
        """modem_id may not send before `until` (a quota): the queued parts only it may carry (assigned to
        it, or pinned to it) wait until then with the reason; returns how many. Parts any modem may take
        get the reason but stay due, for a modem under its quota (SIM rotation)."""
        self._begin()
        held = self._db.execute(
            "UPDATE out_part SET last_error = ?, next_attempt_at = max(coalesce(next_attempt_at, 0), ?)"
            " WHERE state = 'queued' AND (assigned_modem = ?"
            " OR (assigned_modem IS NULL AND pinned_modem = ?))"
            " AND (last_error IS NOT ? OR next_attempt_at < ?)",
            (reason, until, modem_id, modem_id, reason, until)).rowcount
        self._db.execute(
            "UPDATE out_part INDEXED BY out_part_unassigned SET last_error = ? WHERE state = 'queued'"
            " AND assigned_modem IS NULL AND pinned_modem IS NULL AND last_error IS NOT ?", (reason, reason))
        return held

    @atomic
    def note_recipient_cap(self, modem_id: str, month: str, reason: str, now: float) -> int:
        """modem_id is at its recipient cap for `month`: the due parts it might have taken, to numbers it
        did not send to this month, say so (they stay due: a modem under its cap may take them)."""
        self._begin()
        return self._db.execute(
            "UPDATE out_part SET last_error = ? WHERE state = 'queued' AND assigned_modem IS NULL"
            " AND (pinned_modem IS NULL OR pinned_modem = ?) AND next_attempt_at <= ? AND last_error IS NOT ?"
            " AND NOT EXISTS (SELECT 1 FROM out_recipient r JOIN modem_recipient k ON k.number = r.number"
            " WHERE r.id = out_part.recipient AND k.modem_id = ? AND k.month = ?)",
            (reason, modem_id, now, reason, modem_id, month)).rowcount

    def _update_part(self, part_id: int, sql: str, args: tuple[object, ...]) -> None:
        self._begin()
        cur = self._db.execute(f"UPDATE out_part SET {sql} WHERE id = ?", (*args, part_id))
        if cur.rowcount == 0:
            raise UnknownMessageError(f"outbound part {part_id}")

    @atomic
    def mark_sending(self, part_id: int, now: float) -> None:
        """About to write AT+CMGS: commit this first, so a crash leaves the part 'sending' (-> 'unknown')."""
        self._update_part(part_id, "state = 'sending', attempts = attempts + 1, modem_id = assigned_modem,"
                          " updated_at = ?", (now,))

    @atomic
    def mark_sent(self, part_id: int, mr: int, now: float) -> None:
        self._update_part(part_id, "state = 'sent', mr = ?, sent_at = ?, updated_at = ?,"
                          " next_attempt_at = NULL, last_error = NULL", (mr, now, now))

    @atomic
    def mark_retry(self, part_id: int, now: float, error: str, delay: float, *,
                        unconfirmed: bool = False) -> None:
        """Back to 'queued', due again after `delay` seconds (the caller chose it, e.g. with backoff()).

        `unconfirmed`: the last AT+CMGS may have gone out (policy 'resend'): flagged resent_after_unknown.
        """
        self._update_part(part_id, "state = 'queued', last_error = ?, next_attempt_at = ?, updated_at = ?,"
                          " resent_after_unknown = resent_after_unknown OR ?",
                          (error, now + delay, now, unconfirmed))

    @atomic
    def mark_failed(self, part_id: int, now: float, error: str) -> None:
        self._update_part(part_id, "state = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ?",
                          (error, now))

    @atomic
    def mark_unknown(self, part_id: int, now: float, error: str) -> None:
        """AT+CMGS was written but never confirmed: the network may or may not have it (final, visible)."""
        self._update_part(part_id, "state = 'unknown', last_error = ?, next_attempt_at = NULL,"
                          " updated_at = ?", (error, now))

    @atomic
    def release_modem(self, modem_id: str) -> int:
        """modem_id is down: its recipients with nothing sent yet (and not pinned to it) may go elsewhere."""
        rows = self._db.execute(
            "SELECT DISTINCT p.recipient FROM out_part p INDEXED BY out_part_assigned"
            " WHERE p.state = 'queued' AND p.assigned_modem IS NOT NULL AND p.assigned_modem = ?"
            " AND p.pinned_modem IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM out_part s WHERE s.recipient = p.recipient"
            " AND s.state IN ('sending', 'sent', 'unknown'))", (modem_id,)).fetchall()
        if rows:
            self._begin()
        for r in rows:
            self._db.execute("UPDATE out_recipient SET assigned_modem = NULL WHERE id = ?", (r[0],))
            self._db.execute("UPDATE out_part SET assigned_modem = NULL WHERE recipient = ?", (r[0],))
        return len(rows)

    @atomic
    def recover_interrupted(self, now: float, policy: Literal["resend", "fail"]) -> int:
        """At start-up: parts a crash left 'sending' (AT+CMGS maybe written) become 'unknown'.

        'resend' queues them again (flagged resent_after_unknown: the recipient may get it twice);
        'fail' leaves them 'unknown' (final, visible). Returns how many there were.
        """
        rows = self._db.execute("SELECT id FROM out_part WHERE state = 'sending'").fetchall()
        if not rows:
            return 0
        self._begin()
        if policy == "resend":
            self._db.execute("UPDATE out_part SET state = 'queued', resent_after_unknown = 1,"
                             " next_attempt_at = ?, last_error = 'unknown after restart: resent',"
                             " updated_at = ?"
                             " WHERE state = 'sending'", (now, now))
        else:
            self._db.execute("UPDATE out_part SET state = 'unknown', next_attempt_at = NULL,"
                             " last_error = 'unknown after restart: AT+CMGS unconfirmed', updated_at = ?"
                             " WHERE state = 'sending'", (now,))
        return len(rows)

    def queue_depths(self) -> dict[str, int]:
        """Queued parts per assigned modem id, plus "unassigned"."""
        out: dict[str, int] = dict(self._db.execute(
            "SELECT assigned_modem, count(*) FROM out_part INDEXED BY out_part_assigned"
            " WHERE state = 'queued' AND assigned_modem IS NOT NULL GROUP BY assigned_modem").fetchall())
        unassigned = self._db.execute(
            "SELECT count(*) FROM out_part INDEXED BY out_part_unassigned WHERE state = 'queued'"
            " AND assigned_modem IS NULL").fetchone()[0]
        if unassigned:
            out["unassigned"] = unassigned
        return out

    def oldest_queued(self) -> float | None:
        """When the oldest part still queued was accepted (unix seconds); None when none is queued."""
        row = self._db.execute("SELECT min(m.created_at) FROM out_part p INDEXED BY out_part_expiry"
                               " JOIN out_message m ON m.id = p.message WHERE p.state = 'queued'").fetchone()
        return None if row[0] is None else float(row[0])

    @atomic
    def retry(self, message_id: str, now: float) -> bool:
        """An operator's retry: failed and unknown parts are queued again, with the expiry restarted."""
        m = self._db.execute("SELECT id, created_at, expires_at FROM out_message WHERE message_id = ?",
                             (message_id,)).fetchone()
        if m is None:
            return False
        expires = None if m["expires_at"] is None else now + (m["expires_at"] - m["created_at"])
        self._begin()
        n = self._db.execute(
            "UPDATE out_part SET state = 'queued', next_attempt_at = ?, expires_at = ?, updated_at = ?,"
            " last_error = coalesce(last_error, '') || ' (retried by operator)'"
            " WHERE message = ? AND state IN ('failed', 'unknown') AND fleet_state IS NULL",
            (now, expires, now, m["id"])).rowcount
        if n:
            self._db.execute("UPDATE out_message SET expires_at = ? WHERE id = ?", (expires, m["id"]))
        return n > 0

    @atomic
    def cancel(self, message_id: str, now: float) -> bool:
        """An operator's cancel: queued parts fail ('cancelled'). True if any were queued."""
        m = self._db.execute("SELECT id FROM out_message WHERE message_id = ?", (message_id,)).fetchone()
        if m is None:
            return False
        self._begin()
        n = self._db.execute(
            "UPDATE out_part SET state = 'failed', last_error = 'cancelled', next_attempt_at = NULL,"
            " updated_at = ? WHERE message = ? AND state = 'queued'", (now, m["id"])).rowcount
        return n > 0
