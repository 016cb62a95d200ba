"""Writing the daily roll-ups (``brand_days``, ``touchpoint_days``, ``author_days``).

Triggers (migration m009) mark the UTC day of every change that moves a roll-up in
``rollup_stale_days``. :func:`refresh_stale_days` rebuilds those days a batch at a time, each
batch in one write transaction that also clears its marks: a refresh killed half-way leaves
the finished batches stored and the rest still marked, never a half-written day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlite_utils import Database

from store.db import StoreError

ROLLUP_COLUMNS = {
    "brand_days": ("day", "brand", "brands", "product", "source_id", "language", "sentiment",
                   "mentions", "negative", "neutral", "positive"),
    "touchpoint_days": ("day", "touchpoint", "brand", "brands", "product", "source_id",
                        "language", "sentiment", "mentions", "negative"),
    "author_days": ("day", "brand", "author_id", "source_id", "language", "mentions",
                    "positive", "negative", "recommended", "churned"),
}
Rows = Mapping[str, Sequence[tuple]]  # table → rows in ROLLUP_COLUMNS order


def stale_days(db: Database, first: str | None = None, last: str | None = None) -> list[str]:
    """Days whose roll-ups are missing or out of date (``YYYY-MM-DD``), oldest first."""
    return [day for (day,) in db.execute(
        "SELECT DISTINCT day FROM rollup_stale_days WHERE day BETWEEN ? AND ? ORDER BY day",
        [first or "0000", last or "9999"])]


def refresh_stale_days(db: Database, compute: Callable[[list[str]], Rows],
                       batch_days: int = 7) -> int:
    """Rebuild every stale day with ``compute(days) → rows``; returns how many days.

    ``compute`` reads through ``db`` inside the batch's write transaction, so no write can
    slip between what it reads and what is stored.
    """
    if db.conn.in_transaction:
        raise StoreError("the roll-ups are refreshed in transactions of their own; "
                         "commit or roll back the open one first")
    done = 0
    while True:
        with db.atomic(alone="rollups"):
            days = [day for (day,) in db.execute(
                "SELECT DISTINCT day FROM rollup_stale_days ORDER BY day LIMIT ?",
                [batch_days])]
            if days:
                _replace_days(db, days, compute(days))
        if not days:
            return done
        done += len(days)


def _replace_days(db: Database, days: list[str], rows: Rows) -> None:
    wanted = set(days)
    for table in ROLLUP_COLUMNS:
        if any(row[0] not in wanted for row in rows.get(table, ())):
            raise ValueError(f"{table} rows outside the days being refreshed")
    marks = ", ".join("?" for _ in days)
    for table, columns in ROLLUP_COLUMNS.items():
        db.execute(f"DELETE FROM {table} WHERE day IN ({marks})", days)
        db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})", rows.get(table, ()))
    db.execute(f"DELETE FROM rollup_stale_days WHERE day IN ({marks})", days)
