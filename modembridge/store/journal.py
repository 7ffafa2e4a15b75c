"""The journal's connection, its write transactions and group commit; the base of the journal's parts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, Literal, ParamSpec, TypeVar

from modembridge.config import RetryPolicy
from modembridge.retry import backoff_delay

from .schema import migrate
from .types import StoreError


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def when(t: float | None) -> datetime | None:
    return None if t is None else utc(t)


# SQLite's page cache for the connection, in KiB (PRAGMA cache_size = -N). SQLite's default (2,000 KiB) fills
# up under load and is most of the daemon's growth after start (2.0 MB measured); the pages the sender and
# the journal's writes touch fit in far less, and a page read again comes from the OS's cache. Memory only:
# it changes no commit and no fsync (a transaction larger than this spills its pages to the WAL early,
# where they stay uncommitted until its COMMIT).
CACHE_KIB = 512
SLOW_COMMIT = 1.0  # seconds: a COMMIT this slow is remembered (its fsync blocked the event loop)
# A group COMMIT waits while other callbacks are ready to run (an HTTP request being parsed, a router request
# being written, the next AT command): they go first, more writers join the transaction, and its fsync
# (which blocks the loop) delays nobody who was ready. At most this many loop turns, so it never starves.
GROUP_COMMIT_MAX_TURNS = 8

S = TypeVar("S", bound="Part")
P = ParamSpec("P")
R = TypeVar("R")


class Transaction:
    """One write transaction of the journal, from its BEGIN to its COMMIT or ROLLBACK.

    A writer learns the outcome of the transaction that holds *its* writes: take the handle right after
    writing (``store.transaction``, or ``store.commit()``, which binds to it at the call) and await
    ``store.durable(txn)``. A failed COMMIT of someone else's, which rolls the whole transaction back,
    then reaches every writer whose rows were in it instead of leaving them to find "nothing to commit".
    """

    __slots__ = ("done", "error", "fresh_callbacks", "fresh_calls", "fresh_inbound", "outcome", "scheduled",
                 "seq")

    def __init__(self, seq: int) -> None:
        self.seq = seq  # 1, 2, 3 ... per Store object
        self.done = False  # committed or rolled back
        self.error: StoreError | None = None  # why it rolled back
        self.outcome: asyncio.Future[None] | None = None  # for the writers waiting on its COMMIT
        self.scheduled = False  # a group COMMIT is due at the end of this loop iteration
        # Queue entries that became due in this transaction: not handed out before it commits (a rolled-
        # back inbound message would come back under a new id, a rolled-back callback's id be reused).
        self.fresh_inbound: set[str] = set()
        self.fresh_callbacks: set[int] = set()
        self.fresh_calls: set[int] = set()  # missed calls journalled in it (delivered once committed)

    def __repr__(self) -> str:
        state = "open" if not self.done else "committed" if self.error is None else "rolled back"
        return f"<Transaction {self.seq} {state}>"


def atomic(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A write method whose statements all take effect or none. One that fails after it began writing
    rolls the whole transaction back, and every writer of that transaction is told (StoreError from
    durable()), as after a failed COMMIT: nothing half-written can be committed by someone else. (A
    savepoint per method would keep the others' rows, but costs every write a copy of each page it
    touches; failing half-way is rare: a full disk, an I/O error, a bug.)"""

    @functools.wraps(method)
    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        j = self.journal
        outermost = j._atomic_depth == 0
        changes = j.db.total_changes  # rows written through the connection so far
        j._atomic_depth += 1
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            # only when the method changed rows before it failed (a lookup that fails costs nobody anything)
            if outermost and j.db.total_changes != changes:
                j.abort(f"{method.__name__} failed after it began writing: {exc}")
            raise
        finally:
            j._atomic_depth -= 1

    return run


class Journal:
    """One SQLite connection in WAL mode, used from one asyncio loop (no threads).

    Sync write methods (of the journal's parts) run inside an open transaction, begun on the first write;
    nothing is durable until the transaction commits. ``await journal.commit()`` right after the writes
    (or :meth:`commit_now`) raises StoreError when the transaction holding them was rolled back.
    """

    def __init__(self, path: str | Path, *, synchronous: Literal["FULL", "NORMAL"] = "FULL",
                 rng: random.Random | None = None) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous
        self.commits = 0  # COMMIT statements issued (each one fsync with FULL)
        self.slow_commit: tuple[float, float] | None = None  # (unix time, seconds) of the last slow COMMIT
        self.rollbacks = 0  # transactions that ended without their COMMIT succeeding
        self._rng = rng or random.Random()
        self._txn: Transaction | None = None  # the open write transaction, as far as this object knows
        self._seq = 0
        self._failed: BaseException | None = None
        self._atomic_depth = 0  # atomic write methods running (they may call each other)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open journal {self.path}: {e}") from e
        self.db.row_factory = sqlite3.Row
        try:
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if self.path != ":memory:" and str(mode).lower() != "wal":
                raise StoreError(f"journal {self.path}: cannot switch to WAL mode (got {mode})")
            self.db.execute(f"PRAGMA synchronous = {synchronous}")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 5000")
            self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    # -- transactions -------------------------------------------------------------------------------------

    def begin(self) -> Transaction:
        """Open the write transaction if none is open; every write method calls this before writing."""
        txn = self._open_transaction()
        if txn is None:
            if not self.db.in_transaction:  # (a test may have begun one on the connection itself)
                self.db.execute("BEGIN IMMEDIATE")
            self._seq += 1
            txn = self._txn = Transaction(self._seq)
        return txn

    def _open_transaction(self) -> Transaction | None:
        """The open transaction; one that SQLite rolled back by itself (SQLITE_FULL, SQLITE_IOERR inside a
        statement end the whole transaction) is ended here, and its writers are told."""
        txn = self._txn
        if txn is not None and not self.db.in_transaction:
            self._end(txn, StoreError("journal write failed and SQLite rolled the transaction back "
                                      "(disk full or I/O error): its writes are lost"))
            return None
        return txn

    @property
    def transaction(self) -> Transaction | None:
        """The open write transaction (None: nothing written since the last commit)."""
        return self._open_transaction()

    @property
    def dirty(self) -> bool:
        """Uncommitted writes exist."""
        return self._open_transaction() is not None

    def commit_now(self) -> None:
        """COMMIT now (blocking for the fsync); a no-op without pending writes.

        Settles a pending group commit too: its writers' rows were in this transaction, so they learn
        the outcome of this COMMIT — a failure rolled their writes back, and they must not go on to
        delete an SMS from the SIM or answer 202. Raises StoreError when the open transaction was lost.
        """
        lost = self._txn is not None and not self.db.in_transaction
        txn = self._open_transaction()
        if txn is None:
            if lost:
                raise StoreError("journal transaction was rolled back by SQLite (disk full or I/O error)")
            return
        started = time.monotonic()
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            error = StoreError(f"journal commit failed, uncommitted writes rolled back: {e}")
            self._end(txn, error)
            raise error from e
        self.commits += 1
        took = time.monotonic() - started
        if took >= SLOW_COMMIT:  # the loop was blocked all that time: the health check says why
            self.slow_commit = (time.time(), took)
        self._end(txn, None)

    def commit(self) -> Awaitable[None]:
        """Make everything written so far durable: ``await store.commit()`` right after the writes.

        Bound at the call to the transaction open now (see :meth:`durable`); callers in the same loop
        iteration share one COMMIT (group commit).
        """
        return self.durable(self._open_transaction())

    async def durable(self, txn: Transaction | None) -> None:
        """Return once `txn` is committed (scheduling its group COMMIT if it is still open); raise
        StoreError if it was rolled back. None (nothing was written) returns at once."""
        if txn is None:
            return
        self._open_transaction()  # notices a transaction SQLite rolled back by itself
        if not txn.done:
            loop = asyncio.get_running_loop()
            if txn.outcome is None:
                txn.outcome = loop.create_future()
                txn.outcome.add_done_callback(_consume)
            if not txn.scheduled:
                txn.scheduled = True
                loop.call_soon(self._flush, txn)
            await asyncio.shield(txn.outcome)
        elif txn.error is not None:
            raise txn.error

    def abort(self, reason: str) -> None:
        """Roll the open transaction back; its writers get StoreError(reason)."""
        txn = self._open_transaction()
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        if txn is not None:
            self._end(txn, StoreError(f"journal transaction rolled back: {reason}"))

    def _flush(self, txn: Transaction, turns: int = 0) -> None:
        if txn is not self._txn:
            return
        if turns < GROUP_COMMIT_MAX_TURNS:
            loop = asyncio.get_running_loop()
            if getattr(loop, "_ready", None):  # CPython's queue of callbacks due in this turn (not public)
                loop.call_soon(self._flush, txn, turns + 1)
                return
        with contextlib.suppress(StoreError):  # already delivered to every waiter
            self.commit_now()

    def _end(self, txn: Transaction, error: StoreError | None) -> None:
        """The transaction is over: COMMIT succeeded (error None) or its writes are gone."""
        if self._txn is txn:
            self._txn = None
        txn.done, txn.error = True, error
        if error is None:
            self._failed = None
        else:
            self._failed = error
            self.rollbacks += 1
        fut = txn.outcome
        if fut is not None and not fut.done():
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)

    def writable(self) -> bool:
        """The journal is open, its folder writable, and the last commit did not fail."""
        try:
            self.db.execute("SELECT 1").fetchone()
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
                self.abort("the journal was closed without committing")
        finally:
            self.db.close()

    # -- retries ------------------------------------------------------------------------------------------

    def backoff(self, policy: RetryPolicy, attempts: int) -> float:
        """Delay after `attempts` failures (modembridge.retry.backoff_delay with this journal's RNG)."""
        return backoff_delay(policy, attempts, self._rng)


class Part:
    """One concern of the journal (inbox, outbox, reports, facts, views) over the shared connection."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    @property
    def _db(self) -> sqlite3.Connection:
        return self.journal.db

    def _begin(self) -> Transaction:
        return self.journal.begin()


def _consume(fut: asyncio.Future[None]) -> None:
    """Mark a commit failure as retrieved (every waiter got it raised already)."""
    if not fut.cancelled():
        fut.exception()
