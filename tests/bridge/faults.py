"""A journal whose COMMITs fail on demand, as on a full disk or an I/O error (SQLITE_FULL / SQLITE_IOERR)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from modembridge.store import Store


class FailingConnection:
    """Wraps the store's sqlite3 connection; a COMMIT fails while `should_fail(statements)` says so, where
    `statements` are the SQL texts executed since the last COMMIT."""

    def __init__(self, db: sqlite3.Connection, should_fail: Callable[[list[str]], bool]) -> None:
        self._db = db
        self._should_fail = should_fail
        self._since_commit: list[str] = []
        self.failures = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.strip().upper() == "COMMIT":
            statements, self._since_commit = self._since_commit, []
            if self._should_fail(statements):
                self.failures += 1
                raise sqlite3.OperationalError("database or disk is full")
        else:
            self._since_commit.append(sql)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def fail_commits(store: Store, should_fail: Callable[[list[str]], bool]) -> FailingConnection:
    conn = FailingConnection(store.db, should_fail)
    store.db = conn  # type: ignore[assignment]
    return conn


def once(predicate: Callable[[list[str]], bool]) -> Callable[[list[str]], bool]:
    """Fail the first COMMIT whose transaction matches `predicate`, then never again."""
    done = False

    def check(statements: list[str]) -> bool:
        nonlocal done
        if not done and predicate(statements):
            done = True
            return True
        return False

    return check


def fail_inside_statement(db: sqlite3.Connection) -> None:
    """SQLITE_FULL inside a write statement, after SQLite rolled the whole transaction back by itself."""
    if db.in_transaction:
        db.execute("ROLLBACK")
    raise sqlite3.OperationalError("database or disk is full")


class FailEach:
    """The store's connection, failing the statements containing `needle` whose occurrence (1, 2, ...) is in
    `which` (SQLITE_FULL, the transaction left as it was)."""

    def __init__(self, db: Any, needle: str, which: set[int]) -> None:
        self._db, self.needle, self.which, self.seen = db, needle, which, 0

    def execute(self, sql: str, *args: Any) -> Any:
        if self.needle in sql:
            self.seen += 1
            if self.seen in self.which:
                raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class RollbackOnce:
    """The store's connection: the first statement containing `needle` fails the way a full disk may fail
    a statement (fail_inside_statement)."""

    def __init__(self, db: Any, needle: str) -> None:
        self._db, self.needle, self.armed = db, needle, True

    def execute(self, sql: str, *args: Any) -> Any:
        if self.armed and self.needle in sql:
            self.armed = False
            fail_inside_statement(self._db)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class DiskFullConnection:
    """Wraps the store's sqlite3 connection and behaves like a journal on a full disk while `full` is set:
    every COMMIT fails with SQLITE_FULL, and every `statement_every`-th write statement fails too, after
    SQLite has rolled the whole transaction back (what SQLite may do on SQLITE_FULL inside a statement).
    Reads always work (the pages are cached)."""

    WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, db: sqlite3.Connection, statement_every: int = 5) -> None:
        self._db = db
        self.full = False
        self.statement_every = statement_every
        self._writes = 0
        self.commit_failures = 0
        self.statement_failures = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.full:
            verb = sql.lstrip().split(None, 1)[0].upper()
            if verb == "COMMIT":
                self.commit_failures += 1
                raise sqlite3.OperationalError("database or disk is full")
            if verb in self.WRITES:
                self._writes += 1
                if self._writes % self.statement_every == 0:
                    self.statement_failures += 1
                    fail_inside_statement(self._db)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def disk_full(store: Store, statement_every: int = 5) -> DiskFullConnection:
    conn = DiskFullConnection(store.db, statement_every)
    store.db = conn  # type: ignore[assignment]
    return conn
