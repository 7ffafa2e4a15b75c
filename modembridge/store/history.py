"""Each message's story as it happened: every AT+CMGS attempt and its outcome, every router attempt, every
status report. Written inside the transaction of the state change it explains (so the story is never
ahead of, or behind, the state); the views read it (Views._events) for the console's timeline."""

from __future__ import annotations

from .journal import Part, atomic


class History(Part):
    @atomic
    def add(self, message_id: str, at: float, kind: str, detail: str) -> None:
        self._begin()
        self._db.execute("INSERT INTO message_event (message_id, at, kind, detail) VALUES (?, ?, ?, ?)",
                         (message_id, at, kind, detail[:300]))
