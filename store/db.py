"""Opening the Otklik database: one SQLite file in WAL mode with the schema applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from store.schema import MIGRATIONS

DEFAULT_DB_PATH = Path("data/otklik.db")


def default_db_path() -> Path:
    """The database to use when none is named: ``$OTKLIK_DB`` or ``data/otklik.db``."""
    return Path(os.environ.get("OTKLIK_DB") or DEFAULT_DB_PATH)


class StoreError(Exception):
    """A store operation was refused; the message says why in plain words."""


def open_db(path: str | Path = DEFAULT_DB_PATH, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    ``":memory:"`` gives a private in-memory database, handy in tests.
    """
    if str(path) != ":memory:":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    if migrate and MIGRATIONS.pending(db):
        _migrate(db)
    return db


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations holding the write lock, so that processes opening a new
    database at the same moment do not both create its tables."""
    db.execute("BEGIN IMMEDIATE")
    try:
        MIGRATIONS.apply(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
