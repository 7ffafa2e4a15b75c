"""Small per-modem facts that must survive a restart (the driver's: the SIM last seen, rejected PINs)."""

from __future__ import annotations

from .journal import Part, atomic


class Facts(Part):
    def get(self, modem_id: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM modem_fact WHERE modem_id = ? AND key = ?", (modem_id, key)
        ).fetchone()
        return None if row is None else str(row[0])

    @atomic
    def set(self, modem_id: str, key: str, value: str | None, now: float) -> None:
        """Write (None: delete) inside the open transaction; durable after the next commit."""
        self._begin()
        if value is None:
            self._db.execute("DELETE FROM modem_fact WHERE modem_id = ? AND key = ?", (modem_id, key))
        else:
            self._db.execute(
                "INSERT INTO modem_fact (modem_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (modem_id, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (modem_id, key, value, now),
            )
