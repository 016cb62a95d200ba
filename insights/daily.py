"""Reading and refreshing the daily roll-ups (``insights.rollups``).

A reader sees the store as it is now: stored days are summed in SQL, and the days marked
stale since the last refresh (a new post, a re-tag, a correction, an erasure) are computed
afresh from their mentions and added. ``otklik analyze`` stores the stale days again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlite_utils import Database

from insights.mention_facts import brand_mentions_of_days
from insights.rollups import TABLES, group, rollup_rows
from store.rollups import refresh_stale_days, stale_days


class Window:
    """The roll-ups of the UTC days ``first``–``last`` (``YYYY-MM-DD``), read through one
    connection; stale days of the window are computed once, when it opens."""

    def __init__(self, db: Database, first: str, last: str):
        self.db, self.first, self.last = db, first, last
        self.stale = stale_days(db, first, last)
        self._live = rollup_rows(brand_mentions_of_days(db, self.stale), self.stale) \
            if self.stale else {}

    def totals(self, table: str, by: Sequence[str], first: str | None = None,
               last: str | None = None, **where) -> dict[tuple, list[int]]:
        """The measures of ``table`` summed by the columns ``by`` over the days
        ``first``–``last`` (default: the window), for rows whose columns equal ``where``
        (a value, or a list of values; None: any). Missing values are stored as ``''``."""
        dims, measures = TABLES[table]
        unknown = [name for name in (*by, *where) if name not in dims]
        if unknown:
            raise ValueError(f"{table} has no column {unknown[0]!r}; columns: {', '.join(dims)}")
        first, last = max(first or self.first, self.first), min(last or self.last, self.last)
        conditions, params = ["day BETWEEN ? AND ?",
                              "day NOT IN (SELECT day FROM rollup_stale_days)"], [first, last]
        for name, value in where.items():
            if isinstance(value, (list, tuple, set)):
                conditions.append(f"{name} IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(sorted(value)))
            elif value is not None:
                conditions.append(f"{name} = ?")
                params.append(value)
        columns = ", ".join(by)
        sums = ", ".join(f"sum({measure})" for measure in measures)
        out: dict[tuple, list[int]] = {}
        for row in self.db.execute(
                f"SELECT {columns + ', ' if by else ''}{sums} FROM {table} "
                f"WHERE {' AND '.join(conditions)} {'GROUP BY ' + columns if by else ''}",
                params):
            if row[len(by)] is not None:  # sum() over no row
                out[tuple(row[:len(by)])] = list(row[len(by):])
        live = [row for row in self._live.get(table, ()) if first <= row[0] <= last]
        for key, values in group(live, table, by, where).items():
            total = out.setdefault(key, [0] * len(measures))
            for i, value in enumerate(values):
                total[i] += value
        return out


@contextmanager
def window(db: Database, first: str, last: str) -> Iterator[Window]:
    """A :class:`Window` read in one snapshot of the store (a read transaction), so that a
    refresh committing meanwhile cannot make a day count twice or not at all."""
    if db.conn.in_transaction:
        yield Window(db, first, last)
        return
    with db.snapshot():
        yield Window(db, first, last)


def refresh(db: Database, batch_days: int = 7) -> int:
    """Store the roll-ups of every stale day; returns how many days were rebuilt. After a
    refresh the planner's statistics are brought up to date."""
    done = refresh_stale_days(
        db, lambda days: rollup_rows(brand_mentions_of_days(db, days), days), batch_days)
    if done:
        db.update_statistics()
    return done
