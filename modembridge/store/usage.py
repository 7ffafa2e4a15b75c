"""What each modem sent, for its pacing and quotas: parts per calendar day, the last send, and the
distinct recipients of each calendar month. Written with a part's ``sending`` mark (so an AT+CMGS that a
crash interrupted still counts), read by the bridge's pacer. The periods are the caller's keys."""

from __future__ import annotations

from dataclasses import dataclass

from .journal import Part, atomic


@dataclass(frozen=True)
class UsageCounts:
    day_parts: int  # parts sent (AT+CMGS written) on `day`
    month_recipients: int  # distinct recipients of `month`
    last_send_at: float | None  # the last AT+CMGS written, unix seconds


class Usage(Part):
    @atomic
    def record_send(self, modem_id: str, number: str, *, day: str, month: str, now: float) -> None:
        """One part about to be written to the modem (inside the open transaction, with its `sending`)."""
        self._begin()
        self._db.execute(
            "INSERT INTO modem_usage (modem_id, day, day_parts, last_send_at) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (modem_id) DO UPDATE SET day_parts = CASE WHEN day = excluded.day"
            " THEN day_parts + 1 ELSE 1 END, day = excluded.day, last_send_at = excluded.last_send_at",
            (modem_id, day, now))
        self._db.execute("INSERT OR IGNORE INTO modem_recipient (modem_id, month, number) VALUES (?, ?, ?)",
                         (modem_id, month, number))

    def counts(self, modem_id: str, *, day: str, month: str) -> UsageCounts:
        row = self._db.execute("SELECT day, day_parts, last_send_at FROM modem_usage WHERE modem_id = ?",
                               (modem_id,)).fetchone()
        recipients = self._db.execute("SELECT count(*) FROM modem_recipient WHERE modem_id = ? AND month = ?",
                                      (modem_id, month)).fetchone()[0]
        if row is None:
            return UsageCounts(0, int(recipients), None)
        return UsageCounts(int(row["day_parts"]) if row["day"] == day else 0, int(recipients),
                           row["last_send_at"])

    def knows(self, modem_id: str, number: str, *, month: str) -> bool:
        """`number` already got a part from this modem this month (so a recipient cap does not stop it)."""
        return self._db.execute(
            "SELECT 1 FROM modem_recipient WHERE modem_id = ? AND month = ? AND number = ?",
            (modem_id, month, number)).fetchone() is not None

    @atomic
    def forget_before(self, month: str) -> int:
        """Drop the recipient sets of months before `month` (housekeeping); returns the rows dropped."""
        self._begin()
        return self._db.execute("DELETE FROM modem_recipient WHERE month < ?", (month,)).rowcount
