"""Fleet mode's side of the outbox: jobs taken from the shared queue, and what the queue has not heard yet.

A job (one recipient's parts of a send accepted by any host) is journalled here as an ordinary outbound
message assigned to the modem that took it, so the sender, the reports and the views treat it like any
other. Each part also keeps ``fleet_state``, the state the queue last heard: where it differs from the
part's state, the fleet link reports it. A part the queue gave to another host becomes ``moved``.
"""

from __future__ import annotations

from dataclasses import dataclass

from modembridge.model.fleet import FINAL_PART_STATES, FleetJob

from .journal import Part, atomic

LOCAL_FINAL = ("sent", "failed")  # what this host knows for sure beats what the queue says


@dataclass(frozen=True)
class Unsynced:
    part_id: int
    job_id: str
    seq: int
    state: str
    resent: bool = False  # queued again after an unconfirmed AT+CMGS
    attempt: int = 0  # the queue's attempt number of its last fence


@dataclass(frozen=True)
class HeldJob:
    """A job this host holds: renewed while any part is open here or unreported."""

    job_id: str
    modem_id: str | None  # the modem its recipient is assigned to (None: released to any modem here)
    pinned_modem: str | None
    begun: bool  # some part is (maybe) out: it stays on its modem
    open: bool  # some part still waits to be sent here
    next_due: float | None = None  # when its next queued part is due (a retry may be far off)


class FleetParts(Part):
    @atomic
    def add_job(self, job: FleetJob, modem_id: str, now: float) -> bool:
        """Journal a job the queue gave modem_id (with each part's state there); a job held here before
        (given back, taken over, then given to this host again) takes the queue's states where this
        journal knows nothing more: never over a part sent, failed or in AT+CMGS here. Returns True when
        some part is left to send."""
        db = self._db
        self._begin()
        row = db.execute("SELECT id, message FROM out_recipient WHERE fleet_job = ?",
                         (job.job_id,)).fetchone()
        if row is not None:
            begun = db.execute(
                "SELECT 1 FROM out_part WHERE recipient = ? AND (state IN ('sending', 'sent', 'unknown')"
                " OR resent_after_unknown)", (row["id"],)).fetchone() is not None
            for seq, state in enumerate(job.states, start=1):
                resend = job.resend[seq - 1] if job.resend else False
                db.execute(
                    "UPDATE out_part SET fleet_state = ?, updated_at = ?, state = ?, last_error = NULL,"
                    " next_attempt_at = CASE WHEN ? = 'queued' THEN max(coalesce(next_attempt_at, 0), ?)"
                    " ELSE NULL END,"
                    " resent_after_unknown = resent_after_unknown OR ?"
                    " WHERE recipient = ? AND seq = ? AND state NOT IN ('sent', 'failed', 'sending')",
                    (state, now, state, state, now, resend, row["id"], seq))
            if not begun:
                db.execute("UPDATE out_recipient SET assigned_modem = ? WHERE id = ?", (modem_id, row["id"]))
                db.execute("UPDATE out_part SET assigned_modem = ? WHERE recipient = ?",
                           (modem_id, row["id"]))
            return db.execute("SELECT 1 FROM out_part WHERE recipient = ? AND state = 'queued'",
                              (row["id"],)).fetchone() is not None
        message = db.execute("SELECT id FROM out_message WHERE message_id = ?", (job.message_id,)).fetchone()
        if message is None:
            mrow = db.execute(
                "INSERT INTO out_message (message_id, client_id, source, text, sender, encoding, parts,"
                " status_report, validity, flash, pinned_modem, dlr_url, dlr_mask, created_at, expires_at)"
                " VALUES (?,NULL,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (job.message_id, job.source, job.text, job.sender, job.encoding, len(job.pdus),
                 int(job.status_report), job.validity, int(job.flash), job.pinned_modem, job.dlr_url,
                 job.dlr_mask, job.created_at, job.expires_at)).lastrowid
        else:
            mrow = message["id"]
        rrow = db.execute("INSERT INTO out_recipient (message, number, assigned_modem, fleet_job)"
                          " VALUES (?,?,?,?)", (mrow, job.recipient, modem_id, job.job_id)).lastrowid
        states = job.states or ("queued",) * len(job.pdus)
        db.executemany(
            "INSERT INTO out_part (message, recipient, pinned_modem, assigned_modem, expires_at, seq, total,"
            " pdu, tpdu_length, state, next_attempt_at, resent_after_unknown, updated_at, fleet_state)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(mrow, rrow, job.pinned_modem, modem_id, job.expires_at, seq, len(job.pdus), pdu, length, state,
              now if state == "queued" else None, bool(job.resend and job.resend[seq - 1]), now, state)
             for seq, ((pdu, length), state) in enumerate(zip(job.pdus, states, strict=True), start=1)])
        return "queued" in states

    def holds_open(self, modem_id: str) -> bool:
        """modem_id holds a fleet job with a part still to send (due or waiting for a retry)."""
        return self._db.execute(
            "SELECT 1 FROM out_part INDEXED BY out_part_assigned WHERE state = 'queued'"
            " AND assigned_modem IS NOT NULL AND assigned_modem = ? AND fleet_state IS NOT NULL LIMIT 1",
            (modem_id,)).fetchone() is not None

    def unsynced(self, limit: int = 500) -> list[Unsynced]:
        """Parts whose state the queue has not heard (outcomes, retries), oldest first."""
        rows = self._db.execute(
            "SELECT p.id, r.fleet_job, p.seq, p.state, p.resent_after_unknown, coalesce(p.fleet_attempt, 0)"
            " FROM out_part p INDEXED BY out_part_fleet_unsynced"
            " JOIN out_recipient r ON r.id = p.recipient WHERE p.fleet_state IS NOT NULL"
            " AND p.fleet_state <> p.state AND p.state NOT IN ('sending', 'moved') ORDER BY p.id LIMIT ?",
            (limit,)).fetchall()
        return [Unsynced(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    @atomic
    def heard(self, parts: list[Unsynced]) -> None:
        """The queue has these states now."""
        self._begin()
        self._db.executemany("UPDATE out_part SET fleet_state = ? WHERE id = ?",
                             [(p.state, p.part_id) for p in parts])

    @atomic
    def fenced(self, part_id: int, attempt: int) -> None:
        """The queue marked the part `sending` (just before its AT+CMGS), as attempt `attempt`."""
        self._begin()
        self._db.execute("UPDATE out_part SET fleet_state = 'sending', fleet_attempt = ? WHERE id = ?",
                         (attempt, part_id))

    def still_queued(self, part_id: int) -> bool:
        """The part is still waiting to be sent (no cancel or expiry came while the queue was asked)."""
        row = self._db.execute("SELECT state FROM out_part WHERE id = ?", (part_id,)).fetchone()
        return row is not None and row[0] == "queued"

    def held(self) -> list[HeldJob]:
        """The jobs this host still holds: a part open here, or a state the queue has not heard."""
        rows = self._db.execute(
            "WITH hot(recipient) AS ("
            " SELECT recipient FROM out_part INDEXED BY out_part_expiry WHERE state = 'queued'"
            " AND fleet_state IS NOT NULL"
            " UNION SELECT recipient FROM out_part INDEXED BY out_part_sending WHERE state = 'sending'"
            " AND fleet_state IS NOT NULL"
            " UNION SELECT recipient FROM out_part INDEXED BY out_part_fleet_unsynced"
            " WHERE fleet_state IS NOT NULL AND fleet_state <> state AND state NOT IN ('sending', 'moved'))"
            " SELECT r.fleet_job, r.assigned_modem, m.pinned_modem,"
            " max(p.state IN ('sending', 'sent', 'unknown') OR p.resent_after_unknown),"
            " max(p.state IN ('queued', 'sending')),"
            " min(CASE WHEN p.state = 'queued' THEN p.next_attempt_at END)"
            " FROM hot JOIN out_recipient r ON r.id = hot.recipient JOIN out_message m ON m.id = r.message"
            " JOIN out_part p ON p.recipient = r.id WHERE p.state <> 'moved' GROUP BY r.id").fetchall()
        return [HeldJob(r[0], r[1], r[2], bool(r[3]), bool(r[4]), r[5]) for r in rows]

    @atomic
    def move(self, job_ids: list[str], reason: str, now: float) -> int:
        """The queue gave these jobs to another host (or took them back): their queued parts are 'moved'
        and never sent from here (a part in AT+CMGS right now keeps the outcome it gets). Returns how many
        parts."""
        self._begin()
        n = 0
        for job_id in job_ids:
            n += self._db.execute(
                "UPDATE out_part SET state = 'moved', fleet_state = 'moved', last_error = ?,"
                " next_attempt_at = NULL, updated_at = ? WHERE state = 'queued'"
                " AND recipient = (SELECT id FROM out_recipient WHERE fleet_job = ?)",
                (reason, now, job_id)).rowcount
        return n

    @atomic
    def defer(self, part_id: int, reason: str, now: float, delay: float) -> None:
        """The queue could not record the part's `sending`: it waits (nothing was sent, nothing counted)."""
        self._begin()
        self._db.execute("UPDATE out_part SET last_error = ?, next_attempt_at = ?, updated_at = ?"
                         " WHERE id = ?", (reason, now + delay, now, part_id))


__all__ = ["FINAL_PART_STATES", "LOCAL_FINAL", "FleetParts", "HeldJob", "Unsynced"]
