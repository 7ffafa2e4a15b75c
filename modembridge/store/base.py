"""The connection, the open write transaction and group commit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from modembridge.config import RetryPolicy
from modembridge.retry import backoff_delay

from .schema import migrate
from .types import StoreError


def iso(t: float | None) -> str | None:
    """Unix seconds -> ISO 8601 UTC ('...Z'), for the JSON views."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


class StoreBase:
    """One SQLite connection in WAL mode, used from one asyncio loop (no threads).

    Sync write methods run inside an open transaction (begun on the first write); nothing is durable
    until :meth:`commit` (or :meth:`commit_now`) returns.
    """

    def __init__(self, path: str | Path, *, synchronous: Literal["FULL", "NORMAL"] = "FULL",
                 order_hold_attempts: int = 5, dlr_window: float = 7 * 86400.0,
                 dedupe_window: float = 3600.0,
                 rng: random.Random | None = None) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous
        self.order_hold_attempts = order_hold_attempts
        self.dlr_window = dlr_window  # how far back a status report may match a sent part
        self.dedupe_window = dedupe_window  # a part resent this long after its message began is a duplicate
        self.commits = 0  # COMMIT statements issued (each one fsync with FULL)
        self._rng = rng or random.Random()
        self._pending: asyncio.Future[None] | None = None
        self._failed: BaseException | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open journal {self.path}: {e}") from e
        self._db.row_factory = sqlite3.Row
        try:
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if self.path != ":memory:" and str(mode).lower() != "wal":
                raise StoreError(f"journal {self.path}: cannot switch to WAL mode (got {mode})")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA busy_timeout = 5000")
            migrate(self._db)
        except BaseException:
            self._db.close()
            raise

    # -- transactions -------------------------------------------------------------------------------------

    def _begin(self) -> None:
        """Open the write transaction if none is open; every write method calls this first."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")

    @property
    def dirty(self) -> bool:
        """Uncommitted writes exist."""
        return self._db.in_transaction

    def commit_now(self) -> None:
        """COMMIT now (blocking for the fsync); a no-op without pending writes.

        Settles a pending group commit too: its writers' rows were in this transaction, so they learn
        the outcome of this COMMIT — a failure rolled their writes back, and they must not go on to
        delete an SMS from the SIM or answer 202.
        """
        fut, self._pending = self._pending, None
        if not self._db.in_transaction:
            _settle(fut, None)
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            self._failed = e
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            error = StoreError(f"journal commit failed, uncommitted writes rolled back: {e}")
            _settle(fut, error)
            raise error from e
        self.commits += 1
        self._failed = None
        _settle(fut, None)

    async def commit(self) -> None:
        """Make every write so far durable. Callers in the same loop iteration share one COMMIT."""
        if self._pending is None:
            if not self._db.in_transaction:
                return
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()
            fut.add_done_callback(_consume)
            self._pending = fut
            loop.call_soon(self._flush)
        await asyncio.shield(self._pending)

    def _flush(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(StoreError):  # already delivered to every waiter
                self.commit_now()

    def writable(self) -> bool:
        """The journal is open, its folder writable, and the last commit did not fail."""
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        if self._failed is not None:
            return False
        if self.path == ":memory:":
            return True
        folder = os.path.dirname(os.path.abspath(self.path))
        return os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)

    def close(self, *, commit: bool = True) -> None:
        """Close the file; with commit=False pending writes are dropped (as a crash would)."""
        try:
            if commit:
                self.commit_now()
            else:
                fut, self._pending = self._pending, None
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                _settle(fut, StoreError("journal closed without committing"))
        finally:
            self._db.close()

    # -- retries ------------------------------------------------------------------------------------------

    def backoff(self, policy: RetryPolicy, attempts: int) -> float:
        """Delay after `attempts` failures (modembridge.retry.backoff_delay with this journal's RNG)."""
        return backoff_delay(policy, attempts, self._rng)


def _settle(fut: asyncio.Future[None] | None, error: StoreError | None) -> None:
    if fut is None or fut.done():
        return
    if error is None:
        fut.set_result(None)
    else:
        fut.set_exception(error)


def _consume(fut: asyncio.Future[None]) -> None:
    """Mark a commit failure as retrieved (every waiter got it raised already)."""
    if not fut.cancelled():
        fut.exception()
