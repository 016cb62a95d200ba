"""Opening the Otklik database: one SQLite file in WAL mode with the schema applied."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from store.schema import MIGRATIONS

DEFAULT_DB_PATH = Path("data/otklik.db")
BUSY_TIMEOUT_SECONDS = 30


def default_db_path() -> Path:
    """The database to use when none is named: ``$OTKLIK_DB`` or ``data/otklik.db``."""
    return Path(os.environ.get("OTKLIK_DB") or DEFAULT_DB_PATH)


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

    @contextmanager
    def atomic(self) -> Iterator[StoreDatabase]:
        """One transaction (a savepoint when nested), holding the write lock from its start."""
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


def open_db(path: str | Path = DEFAULT_DB_PATH, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    ``":memory:"`` gives a private in-memory database, handy in tests.
    """
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



def database_file(db: sqlite_utils.Database) -> str | None:
    """The file of an open store, for a second connection to it (``None`` in memory)."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or None
    return None

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


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations holding the write lock, so that processes opening a new
    database at the same moment do not both create its tables."""
    with db.atomic():
        MIGRATIONS.apply(db)
