"""A PostgreSQL store behind the interface the rest of Otklik uses for SQLite.

``PostgresDatabase`` offers what the store's functions call on a ``sqlite_utils``
database — ``execute``, ``conn.executemany``, ``atomic``, ``close`` — and runs every
statement through ``store.dialect.to_postgres``, so each query exists once. The schema is
PostgreSQL's own baseline (``store/pg_schema.py``, standing for the SQLite migrations up to
it) followed by the later migrations, which are written to run on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus

from store.dialect import to_postgres
from store.server_locks import lock_key

MIGRATIONS_TABLE = "otklik_migrations"
CONNECT_TIMEOUT_SECONDS = 10
LOCK_WAIT = "2s"  # how long an erasure's rewrite of a table waits for its readers
# The tables whose rows can carry an author's words, name or handle.
PERSONAL_TABLES = ("mentions", "mentions_fts", "mention_history", "authors", "tags", "hits",
                   "corrections", "embeddings", "review_queue", "touchpoint_models",
                   "author_days", "alerts", "incidents", "clusters")


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL store (``postgresql://…`` or ``postgres://…``)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SQLiteNumberLoader(Loader):
    """``numeric`` values as SQLite gives them: a whole number (a ``sum`` of integers) as
    ``int``, any other (an ``avg``) as ``float``, never ``Decimal``."""

    def load(self, data) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


class Result:
    """What ``execute`` returns: a cursor's rows, or none for a statement without any."""

    def __init__(self, cursor: psycopg.Cursor):
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.description = cursor.description

    def fetchone(self):
        return self._cursor.fetchone() if self.description else None

    def fetchall(self) -> list:
        return self._cursor.fetchall() if self.description else []

    def __iter__(self) -> Iterator:
        return iter(self.fetchall())


class Connection:
    """The part of ``sqlite3.Connection`` the store uses, over a psycopg connection.

    A connection the server dropped (a restart, a network cut, a terminated backend) fails
    the statement that finds it gone, as a transient error its writer tries again; the
    next statement connects afresh.
    """

    def __init__(self, raw: psycopg.Connection, url: str):
        self._raw = raw
        self._url = url
        self._closed = False

    @property
    def raw(self) -> psycopg.Connection:
        if self._raw.closed and not self._closed:
            self._raw = _connect(self._url)
        return self._raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, statement: str, params: Sequence | dict = ()) -> Result:
        return Result(self.raw.execute(to_postgres(statement), params))

    def executemany(self, statement: str, rows: Iterable[Sequence]) -> None:
        rows = list(rows)
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(to_postgres(statement), rows)

    def commit(self) -> None:
        """Nothing to commit outside ``atomic``: each statement commits by itself."""
        self.raw.commit()

    def close(self) -> None:
        self._closed = True
        self._raw.close()


class PostgresDatabase:
    """A PostgreSQL store, used like the SQLite one (see the module's docstring)."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection, url: str):
        self.conn = Connection(raw, url)
        self.url = url

    def execute(self, statement: str, params: Sequence | dict = ()) -> Result:
        """Run one statement (SQLite's text, translated) and return its rows."""
        return self.conn.execute(statement, params)

    @contextmanager
    def atomic(self, alone: str | None = None,
               beside: str | None = None) -> Iterator[PostgresDatabase]:
        """One transaction (a savepoint when nested). With ``alone``, no other transaction
        naming the same job runs meanwhile; with ``beside``, it runs beside others that name
        the job ``beside`` too, but not during one ``alone`` with it (transaction-level
        advisory locks, exclusive or shared)."""
        with self.conn.raw.transaction():
            if alone:
                self.execute("SELECT pg_advisory_xact_lock(?)", [lock_key(alone)])
            if beside:
                self.execute("SELECT pg_advisory_xact_lock_shared(?)", [lock_key(beside)])
            yield self

    @contextmanager
    def snapshot(self) -> Iterator[PostgresDatabase]:
        """A read transaction: every query inside sees the store as it was at its start."""
        self.conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self
        finally:
            self.conn.raw.execute("COMMIT")

    def table_names(self) -> list[str]:
        """The store's tables."""
        return [name for (name,) in self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name")]

    def has_table(self, name: str) -> bool:
        """Whether the store has a table ``name``."""
        return self.execute("SELECT to_regclass(?)", [name]).fetchone()[0] is not None

    @contextmanager
    def overwriting_deletes(self) -> Iterator[None]:
        """PostgreSQL keeps deleted rows until a vacuum: ``reclaim_space`` rewrites them."""
        yield

    def optimize_search_index(self) -> None:
        """Nothing to merge: the trigram index drops deleted rows' entries on vacuum."""

    def reclaim_space(self) -> bool:
        """Rewrite the tables that hold people's words (``VACUUM FULL``), so no deleted row
        stays in their files; False if a reader held a table longer than ``LOCK_WAIT``."""
        try:
            self.execute(f"SET lock_timeout = '{LOCK_WAIT}'")
            for table in PERSONAL_TABLES:
                self.execute(f"VACUUM FULL {table}")
        except errors.LockNotAvailable:
            return False
        finally:
            self.execute("RESET lock_timeout")
        return True

    def update_statistics(self) -> None:
        """After a large write: the planner's statistics, and the visibility map that lets
        index-only scans skip the table (``VACUUM``, which passes over unchanged pages)."""
        self.execute("VACUUM (ANALYZE)")

    def location(self) -> str:
        """What ``open_db`` takes to open this store again."""
        return self.url

    def columns_of(self, table: str) -> list[str]:
        """The column names of ``table``, in order."""
        return [name for (name,) in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? ORDER BY ordinal_position", [table])]

    def stream(self, statement: str, batch: int) -> Iterator[list[tuple]]:
        """The rows of a query, ``batch`` at a time, through a server-side cursor."""
        with self.conn.raw.transaction(), self.conn.raw.cursor(name="otklik_stream") as cursor:
            cursor.execute(to_postgres(statement), ())
            while rows := cursor.fetchmany(batch):
                yield rows

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Insert many rows at once (``COPY``)."""
        listed = ", ".join(f'"{column}"' for column in columns)
        with self.conn.raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def triggers_paused(self, tables: list[str]) -> Iterator[None]:
        """Within the caller's transaction, the tables' own triggers do not fire (a bulk
        copy that replaces what they keep afterwards)."""
        for table in tables:
            self.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        for table in tables:
            self.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    def follow_identity(self, table: str) -> None:
        """Move ``table``'s id sequences past the largest id there is (after rows were
        inserted with their ids)."""
        for (column,) in self.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = ? AND is_identity = 'YES'", [table]):
            self.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                         f"coalesce(max({column}), 0) + 1, false) FROM {table}", [table, column])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(url: str, *, create: bool = False) -> PostgresDatabase:
    """Connect to the store at ``url``; with ``create``, make its database if missing."""
    try:
        raw = _connect(url)
    except psycopg.OperationalError as failed:
        if not (create and _database_missing(failed)):
            raise
        _create_database(url)
        raw = _connect(url)
    return PostgresDatabase(raw, url)


def _connect(url: str) -> psycopg.Connection:
    # No JIT: the store's queries are short, and compiling them costs more than it saves.
    raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                          options="-c jit=off")
    raw.adapters.register_loader("numeric", SQLiteNumberLoader)
    return raw


def _database_missing(failed: psycopg.OperationalError) -> bool:
    return "does not exist" in str(failed) and "database" in str(failed)


def _create_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with (psycopg.connect(maintenance, autocommit=True,
                          connect_timeout=CONNECT_TIMEOUT_SECONDS) as admin,
          suppress(errors.DuplicateDatabase)):  # another process may make it meanwhile
        admin.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(
            sql.Identifier(name)))


def applied_migrations(db: PostgresDatabase) -> list[str] | None:
    """The migrations applied to this store, or ``None`` when it holds no Otklik schema."""
    if not db.has_table(MIGRATIONS_TABLE):
        return None
    return [name for (name,) in db.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY applied_at, name")]


def migration_names(migrations) -> list[str]:
    """The names of a ``sqlite_utils.Migrations`` set, in order."""
    return [migration.name for migration in migrations._migrations]


def migrate(db: PostgresDatabase, migrations) -> None:
    """Apply the pending migrations in one transaction, one migrating process at a time.

    An empty database gets the baseline first (the SQLite migrations it stands for are
    recorded as applied); each later migration runs its own function, written for both.
    """
    from store import pg_functions, pg_schema

    with db.atomic(alone="migrate"):
        db.execute(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
                   "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = set(applied_migrations(db) or ())
        if not done:
            for statement in [*pg_functions.COMPAT_FUNCTIONS, *pg_schema.BASELINE]:
                db.conn.raw.execute(statement)
            pg_schema.seed(db.conn.raw)
            _record(db, pg_schema.BASELINE_MIGRATIONS)
            done.update(pg_schema.BASELINE_MIGRATIONS)
        for migration in migrations._migrations:
            if migration.name not in done:
                migration.fn(db)
                _record(db, [migration.name])


def _record(db: PostgresDatabase, names: list[str]) -> None:
    now = datetime.now(UTC).isoformat()
    db.conn.executemany(f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)",
                        [(name, now) for name in names])
