"""Opening the Otklik database: one SQLite file in WAL mode with the schema applied, or a
PostgreSQL database named by its URL (``store/postgres.py``)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
import sqlite_utils

from store import postgres
from store.postgres import is_postgres_url, redacted
from store.schema import MIGRATIONS

DEFAULT_DB_PATH = Path("data/otklik.db")
BUSY_TIMEOUT_SECONDS = 30
T = TypeVar("T")
CHECKPOINT_WAIT_MS = 2000  # how long the final checkpoint waits for readers of the file


def store_target(value: str | Path) -> str | Path:
    """A ``--db`` value: a PostgreSQL URL stays a string, anything else is a file path."""
    return value if is_postgres_url(value) else Path(value)


def default_db_path() -> str | Path:
    """The database to use when none is named: ``$OTKLIK_DB`` or ``data/otklik.db``."""
    return store_target(os.environ.get("OTKLIK_DB") or DEFAULT_DB_PATH)


def describe_store(target: str | Path) -> str:
    """How a store is named in messages (a URL without its password)."""
    return redacted(target) if is_postgres_url(target) else str(target)


# Refusals that pass: a lock held past the wait, a deadlock another writer won, a lost
# connection. A writer keeps what it was writing and tries again.
TRANSIENT_ERRORS = (sqlite3.OperationalError, psycopg.errors.DeadlockDetected,
                    psycopg.errors.SerializationFailure, psycopg.errors.LockNotAvailable,
                    psycopg.OperationalError)
RETRY_PAUSES = (0.2, 0.5, 1, 2, 4)


def retry_transient(write: Callable[[], T], pauses: tuple[float, ...] = RETRY_PAUSES) -> T:
    """``write()`` (one transaction), tried again after each of ``pauses`` seconds while
    the store refuses it for a passing reason (``TRANSIENT_ERRORS``); the last refusal is
    raised."""
    for pause in pauses:
        try:
            return write()
        except TRANSIENT_ERRORS:
            time.sleep(pause)
    return write()


class StoreError(Exception):
    """A store operation was refused; the message says why in plain words."""


class StoreDatabase(sqlite_utils.Database):
    """A ``sqlite_utils.Database`` whose transactions take the write lock when they begin.

    SQLite's default ``BEGIN`` is deferred: a transaction that reads before it writes must
    upgrade its lock, and in WAL mode that upgrade fails at once ("database is locked",
    the busy timeout does not apply) whenever another process committed meanwhile. ``BEGIN
    IMMEDIATE`` waits for the lock up front, under the busy timeout, so crawlers, taggers,
    analysis and the dashboard can write to one file at the same time.
    """

    dialect = "sqlite"

    @contextmanager
    def atomic(self, alone: str | None = None,
               beside: str | None = None) -> Iterator[StoreDatabase]:
        """One transaction (a savepoint when nested), holding the write lock from its start:
        SQLite's writers take turns, so a transaction is ``alone`` whatever job it names,
        and none runs ``beside`` another."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[StoreDatabase]:
        """A read transaction: every query inside sees the store as it was at its start."""
        self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        """Whether the store has a table ``name``."""
        return self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            [name]).fetchone() is not None

    @contextmanager
    def overwriting_deletes(self) -> Iterator[None]:
        """Within it, deleted content is overwritten in the file (``secure_delete``)."""
        secure = self.execute("PRAGMA secure_delete").fetchone()[0]
        self.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            self.execute(f"PRAGMA secure_delete = {int(secure)}")

    def optimize_search_index(self) -> None:
        """Merge the full-text index's segments (old segments keep deleted words)."""
        self.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('optimize')")

    def reclaim_space(self) -> bool:
        """Rebuild the database file (``VACUUM``: pages split by earlier writes keep stale
        copies of rows in their free space) and empty the WAL into it; False if another
        connection kept either from finishing."""
        try:
            self.execute("VACUUM")
        except sqlite3.OperationalError:  # another connection kept the write lock
            self._checkpoint()
            return False
        return self._checkpoint()

    def _checkpoint(self) -> bool:
        wait = self.execute("PRAGMA busy_timeout").fetchone()[0]
        self.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            busy, _, _ = self.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:  # the file is locked
            return False
        finally:
            self.execute(f"PRAGMA busy_timeout = {int(wait)}")
        return busy == 0

    def update_statistics(self) -> None:
        """Sampled ``ANALYZE`` (a second or so), so the planner knows the sizes of the
        tables and indexes after a large write."""
        self.execute("PRAGMA analysis_limit = 1000")
        self.execute("ANALYZE")

    def columns_of(self, table: str) -> list[str]:
        """The column names of ``table``, in order."""
        return [row[1] for row in self.execute(f"PRAGMA table_info('{table}')")]

    def location(self) -> str | None:
        """What ``open_db`` takes to open this store again (``None`` in memory)."""
        for _, name, file in self.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return file or None
        return None

    def stream(self, statement: str, batch: int) -> Iterator[list[tuple]]:
        """The rows of a query, ``batch`` at a time, without holding them all in memory."""
        cursor = self.conn.execute(statement)
        while rows := cursor.fetchmany(batch):
            yield rows

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Insert many rows at once."""
        listed = ", ".join(f'"{column}"' for column in columns)
        self.conn.executemany(f"INSERT INTO {table} ({listed}) "
                              f"VALUES ({', '.join('?' for _ in columns)})", rows)

    @contextmanager
    def triggers_paused(self, tables: list[str]) -> Iterator[None]:
        """SQLite's triggers cannot be paused; they are quick enough to let fire."""
        yield

    def follow_identity(self, table: str) -> None:
        """Nothing to do: SQLite numbers a new row after the largest id there is."""


def open_db(path: str | Path = DEFAULT_DB_PATH, *, migrate: bool = True):
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    ``path`` is a file, ``":memory:"`` (a private in-memory database, handy in tests) or a
    ``postgresql://`` URL.
    """
    if is_postgres_url(path):
        return _open_postgres(path, migrate)
    if str(path) != ":memory:":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)
    try:
        _refuse_foreign(conn, path)
    except BaseException:
        conn.close()
        raise
    db = StoreDatabase(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    if migrate and MIGRATIONS.pending(db):
        _migrate(db)
    return db


def _refuse_foreign(conn: sqlite3.Connection, path) -> None:
    """Refuse a SQLite file that holds tables but is not an Otklik store, before anything
    (the WAL mode, the migrations) changes it; a file that is no database raises
    ``sqlite3.DatabaseError`` here, before any side file is made."""
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    ours = "_sqlite_migrations" in tables and conn.execute(
        "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1",
        [MIGRATIONS.name]).fetchone()
    if not ours:
        raise StoreError(f"{path} is a SQLite database but not an Otklik store (it has "
                         f"{len(tables)} tables of its own); pass another --db")


def _open_postgres(url: str, migrate: bool):
    db = postgres.connect(url, create=migrate)
    try:
        applied = postgres.applied_migrations(db)
        if applied is None and db.table_names():
            raise StoreError(f"{redacted(url)} is a PostgreSQL database but not an Otklik "
                             "store (it has tables of its own); pass another --db")
        if migrate and set(postgres.migration_names(MIGRATIONS)) - set(applied or ()):
            postgres.migrate(db, MIGRATIONS)
    except BaseException:
        db.close()
        raise
    return db


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations holding the write lock, so that processes opening a new
    database at the same moment do not both create its tables."""
    with db.atomic():
        MIGRATIONS.apply(db)
