"""Read models for operators: one message's view, recent messages, counts per state (model.views)."""

from __future__ import annotations

import sqlite3
from typing import Literal

from modembridge.model import (
    DlrView,
    EventView,
    InboundPartView,
    InboundSummary,
    InboundView,
    JournalCounts,
    MessageSummary,
    MessageView,
    OutboundPartView,
    OutboundSummary,
    OutboundView,
    RecipientView,
)

from .journal import Part, utc, when

# Overall state of an outbound message, derived from its parts (never stored twice).
# Parts 'moved' (fleet mode: handed to another host) do not count, unless all of them are.
OUT_STATE_SQL = """
    CASE
        WHEN sum(p.state = 'moved') = count(*) THEN 'moved'
        WHEN sum(p.state = 'sending') > 0 THEN 'sending'
        WHEN sum(p.state = 'queued') > 0 THEN 'queued'
        WHEN sum(p.state = 'sent') = count(*) - sum(p.state = 'moved') THEN 'sent'
        WHEN sum(p.state = 'failed') = count(*) - sum(p.state = 'moved') THEN 'failed'
        WHEN sum(p.state = 'unknown') > 0 THEN 'unknown'
        ELSE 'partially_failed'
    END
"""
OUT_STATES = ("queued", "sending", "sent", "failed", "partially_failed", "unknown", "moved")
IN_STATES = ("assembling", "received", "delivered", "rejected", "dead", "undecodable", "unmatched",
             "discarded", "indication", "replaced", "selftest")


def out_state(states: list[str]) -> str:
    """Python twin of OUT_STATE_SQL."""
    if all(s == "moved" for s in states):
        return "moved"
    states = [s for s in states if s != "moved"]
    if "sending" in states:
        return "sending"
    if "queued" in states:
        return "queued"
    if all(s == "sent" for s in states):
        return "sent"
    if all(s == "failed" for s in states):
        return "failed"
    if "unknown" in states:
        return "unknown"
    return "partially_failed"


def delivery(parts: list[OutboundPartView], status_report: bool) -> str | None:
    """What the network says of a message to one recipient (or of all recipients' parts together):
    'delivered' only when every part is, 'failed' when a part failed (reported, or refused at sending),
    'pending' while any part waits; None when no report was asked for."""
    if not status_report or not parts:
        return None
    if any(p.dlr.state == "failed" or p.state == "failed" for p in parts):
        return "failed"
    if all(p.dlr.state == "delivered" for p in parts):
        return "delivered"
    return "pending"


class Views(Part):
    def outbound(self, message_id: str) -> OutboundView | None:
        m = self._db.execute("SELECT * FROM out_message WHERE message_id = ?", (message_id,)).fetchone()
        if m is None:
            return None
        recipients = []
        all_parts: list[OutboundPartView] = []
        asked = bool(m["status_report"])
        rrows = self._db.execute("SELECT * FROM out_recipient WHERE message = ? ORDER BY id", (m["id"],))
        for r in rrows.fetchall():
            parts = tuple(_part_view(p) for p in self._db.execute(
                "SELECT * FROM out_part WHERE recipient = ? ORDER BY seq, id", (r["id"],)))
            states = [p.state for p in parts]
            all_parts += parts
            recipients.append(RecipientView(number=r["number"], modem=r["assigned_modem"],
                                            state=out_state(states) if states else "failed", parts=parts,
                                            delivery=delivery(list(parts), asked)))
        all_states = [p.state for p in all_parts]
        return OutboundView(
            id=m["message_id"], direction="out", state=out_state(all_states) if all_states else "failed",
            client_id=m["client_id"], source=m["source"], text=m["text"], sender=m["sender"],
            encoding=m["encoding"], parts=m["parts"], status_report=bool(m["status_report"]),
            validity=m["validity"], flash=bool(m["flash"]), modem=m["pinned_modem"], dlr_url=m["dlr_url"],
            dlr_mask=m["dlr_mask"], created_at=when(m["created_at"]), expires_at=when(m["expires_at"]),
            recipients=tuple(recipients), delivery=delivery(all_parts, asked),
            events=self._events(m["message_id"]))

    def inbound(self, message_id: str) -> InboundView | None:
        m = self._db.execute("SELECT * FROM in_message WHERE message_id = ?", (message_id,)).fetchone()
        if m is None:
            return None
        parts = tuple(InboundPartView(
            seq=p["seq"], modem=p["modem_id"], mem=p["mem"], index=p["idx"], pdu=p["pdu"], text=p["text"],
            data=p["data"].hex() if p["data"] is not None else None, encoding=p["encoding"], smsc=p["smsc"],
            smsc_time=when(p["smsc_time"]), message_class=p["message_class"],
            udh=p["udh"].hex() if p["udh"] is not None else None,
            received_at=when(p["received_at"]), error=p["error"], duplicate=bool(p["duplicate"]),
        ) for p in self._db.execute("SELECT * FROM in_part WHERE message = ? ORDER BY seq, id", (m["id"],)))
        whole = _distinct_seq(parts)
        text = m["text"] if m["text"] is not None else "".join(p.text or "" for p in whole)
        return InboundView(
            id=m["message_id"], direction="in", state=m["state"], modem=m["modem_id"], sender=m["sender"],
            text=text, encoding=m["encoding"], total_parts=m["concat_total"], parts_received=len(whole),
            incomplete=bool(m["incomplete"]), attempts=m["attempts"], last_error=m["last_error"],
            note=m["note"], pid=m["pid"],
            created_at=when(m["created_at"]), received_at=when(m["received_at"]),
            next_attempt_at=when(m["next_attempt_at"]), done_at=when(m["done_at"]), parts=parts,
            events=self._events(m["message_id"]))

    def _events(self, message_id: str) -> tuple[EventView, ...]:
        """The message's story: its events, and its dlr-url callbacks with how each ended."""
        events = [EventView(utc(r["at"]), r["kind"], r["detail"]) for r in self._db.execute(
            "SELECT at, kind, detail FROM message_event INDEXED BY message_event_message"
            " WHERE message_id = ? ORDER BY id DESC LIMIT 200", (message_id,))]  # the newest 200
        events += [EventView(utc(r["created_at"]), "callback",
                             f"dlr-url type {r['status']} for part {r['part']}/{r['parts']}: {r['state']}"
                             + (f" ({r['last_detail']}, {r['attempts']} tries)" if r["last_detail"] else ""))
                   for r in self._db.execute(
                       "SELECT created_at, status, part, parts, state, last_detail, attempts"
                       " FROM dlr_callback INDEXED BY dlr_callback_message WHERE message_id = ?"
                       " ORDER BY id LIMIT 100",
                       (message_id,))]
        return tuple(sorted(events, key=lambda e: e.at))

    def message(self, message_id: str) -> MessageView | None:
        """The outbound or inbound message with this id."""
        return self.outbound(message_id) or self.inbound(message_id)

    def recent(self, *, direction: Literal["in", "out"], state: str | None,
               limit: int, query: str | None = None) -> list[MessageSummary]:
        """Newest first; summaries (use the views for details). `query`: only messages with this id or
        client id, or this fragment in the number or the text."""
        like = None if not query else "%" + _escape_like(query) + "%"
        if direction == "in":
            rows = self._db.execute(
                "SELECT m.*, coalesce(m.text, (SELECT group_concat(text, '') FROM (SELECT text FROM in_part"
                " WHERE message = m.id AND duplicate = 0 GROUP BY seq ORDER BY seq))) AS body"
                " FROM in_message m"
                " WHERE (:state IS NULL OR m.state = :state) AND (:like IS NULL OR m.message_id = :query"
                " OR m.sender LIKE :like ESCAPE '\\' OR m.text LIKE :like ESCAPE '\\')"
                " ORDER BY m.id DESC LIMIT :limit",
                {"state": state, "limit": limit, "like": like, "query": query}).fetchall()
            return [InboundSummary(id=r["message_id"], direction="in", state=r["state"], sender=r["sender"],
                                   modem=r["modem_id"], text=r["body"] or "", parts=r["concat_total"],
                                   attempts=r["attempts"], last_error=r["last_error"],
                                   received_at=when(r["received_at"])) for r in rows]
        rows = self._db.execute(
            f"SELECT m.*, {OUT_STATE_SQL} AS st, count(DISTINCT p.recipient) AS nrcpt FROM out_message m"
            " JOIN out_part p ON p.message = m.id"
            " WHERE (:like IS NULL OR m.message_id = :query OR m.client_id = :query"
            " OR m.text LIKE :like ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM out_recipient r WHERE r.message = m.id"
            " AND r.number LIKE :like ESCAPE '\\'))"
            " GROUP BY m.id HAVING (:state IS NULL OR st = :state)"
            " ORDER BY m.id DESC LIMIT :limit",
            {"state": state, "limit": limit, "like": like, "query": query}).fetchall()
        return [OutboundSummary(id=r["message_id"], direction="out", state=r["st"], recipients=r["nrcpt"],
                                text=r["text"], parts=r["parts"], modem=r["pinned_modem"],
                                client_id=r["client_id"], created_at=when(r["created_at"])) for r in rows]

    def counts(self) -> JournalCounts:
        """Messages per direction and state."""
        inbound = dict.fromkeys(IN_STATES, 0)
        for state, n in self._db.execute("SELECT state, count(*) FROM in_message GROUP BY state"):
            inbound[state] = n
        outbound = dict.fromkeys(OUT_STATES, 0)
        for state, n in self._db.execute(
                f"SELECT st, count(*) FROM (SELECT {OUT_STATE_SQL} AS st FROM out_part p GROUP BY p.message)"
                " GROUP BY st"):
            outbound[state] = n
        return JournalCounts(inbound=inbound, outbound=outbound)


def _escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _part_view(p: sqlite3.Row) -> OutboundPartView:
    return OutboundPartView(
        seq=p["seq"], total=p["total"], state=p["state"], attempts=p["attempts"], mr=p["mr"],
        modem=p["modem_id"], error=p["last_error"], sent_at=when(p["sent_at"]),
        next_attempt_at=when(p["next_attempt_at"]), resent_after_unknown=bool(p["resent_after_unknown"]),
        dlr=DlrView(state=p["dlr_state"], status=p["dlr_status"], at=when(p["dlr_at"])))


def _distinct_seq(parts: tuple[InboundPartView, ...]) -> list[InboundPartView]:
    seen: dict[int, InboundPartView] = {}
    for p in parts:
        if not p.duplicate and p.encoding is not None:
            seen.setdefault(p.seq, p)
    return [seen[k] for k in sorted(seen)]
