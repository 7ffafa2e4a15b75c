"""Missed voice calls: recorded when the modem rejects (or lets ring) a call, delivered to
[router] call_url with retries like the other queues."""

from __future__ import annotations

from typing import Literal, cast

from modembridge.config import RetryPolicy
from modembridge.model import MissedCall
from modembridge.retry import exhausted

from .journal import Part, atomic, utc


class Calls(Part):
    @atomic
    def add(self, modem_id: str, number: str | None, at: float, action: Literal["rejected", "ignored"], *,
            deliver: bool) -> int:
        """Journal a missed call; with `deliver` it is due for call_url at once (once committed)."""
        txn = self._begin()
        cur = self._db.execute(
            "INSERT INTO missed_call (modem_id, number, at, action, state, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (modem_id, number, at, action, "pending" if deliver else "kept", at if deliver else None))
        call_id = int(cur.lastrowid or 0)
        txn.fresh_calls.add(call_id)
        return call_id

    def due(self, now: float, limit: int) -> list[tuple[int, MissedCall]]:
        """Calls due for call_url; those journalled in the still open transaction wait for its commit."""
        txn = self.journal.transaction
        fresh = txn.fresh_calls if txn is not None else set()
        rows = self._db.execute(
            "SELECT * FROM missed_call INDEXED BY missed_call_due WHERE state = 'pending'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            (now, limit + len(fresh))).fetchall()
        rows = [r for r in rows if r["id"] not in fresh][:limit]
        return [(r["id"], MissedCall(r["id"], r["number"], r["modem_id"], utc(r["at"]),
                                     cast(Literal["rejected", "ignored"], r["action"]))) for r in rows]

    def next_due_at(self) -> float | None:
        row = self._db.execute(
            "SELECT min(next_attempt_at) FROM missed_call WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    def recent(self, modem_id: str | None = None, limit: int = 20) -> list[MissedCall]:
        rows = self._db.execute(
            "SELECT * FROM missed_call WHERE (? IS NULL OR modem_id = ?) ORDER BY id DESC LIMIT ?",
            (modem_id, modem_id, limit)).fetchall()
        return [MissedCall(r["id"], r["number"], r["modem_id"], utc(r["at"]),
                           cast(Literal["rejected", "ignored"], r["action"])) for r in rows]

    @atomic
    def mark(self, call_id: int, now: float, *, done: bool, detail: str, policy: RetryPolicy) -> None:
        row = self._db.execute("SELECT attempts FROM missed_call WHERE id = ?", (call_id,)).fetchone()
        if row is None:
            return
        attempts = row[0] + 1
        self._begin()
        if done or exhausted(policy, attempts):
            self._db.execute("UPDATE missed_call SET state = ?, attempts = ?, last_detail = ?,"
                             " next_attempt_at = NULL WHERE id = ?",
                             ("done" if done else "dead", attempts, detail, call_id))
        else:
            self._db.execute("UPDATE missed_call SET attempts = ?, last_detail = ?, next_attempt_at = ?"
                             " WHERE id = ?", (attempts, detail, now + self.journal.backoff(policy, attempts),
                                               call_id))
