"""Copying a whole store to another, SQLite to PostgreSQL or back, with its counts checked.

Every table of the schema is copied row by row, parents before the tables that refer to
them, in one transaction on the destination. The tables that triggers keep (the stale days
of the roll-ups, the members of complaint clusters per day) and the store's secret key are
replaced by the source's after the other rows (a PostgreSQL destination takes its rows by
``COPY`` with its triggers paused), so the destination is the source's twin: the same ids,
the same key (erased authors stay refused), the same figures.
"""

from __future__ import annotations

from collections.abc import Callable

from store.db import StoreError, open_db

BATCH_ROWS = 2000
# Kept by triggers or made at creation: the copy replaces what the destination made itself.
REPLACED = ("rollup_stale_days", "cluster_days", "store_secrets")
SEARCH_TABLE = "mentions_fts"
SEARCH_COLUMNS = ["rowid", "title", "text"]


class CountMismatch(StoreError):
    """A table of the destination does not hold as many rows as the source's."""


def copy_order() -> list[tuple[str, str | None]]:
    """Every table of the schema as ``(table, self_reference)``, each after the tables its
    foreign keys name; ``self_reference`` is a column naming a row of the same table."""
    with open_db(":memory:") as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE ? ORDER BY name",
            [f"{SEARCH_TABLE}_%"])]
        parents = {table: {(row[2], row[3]) for row in db.execute(
            f"PRAGMA foreign_key_list('{table}')")} for table in tables}
    ordered: list[tuple[str, str | None]] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        for table in tables:
            needs = {parent for parent, _ in parents[table]} - {table}
            if table not in placed and needs <= placed:
                itself = next((column for parent, column in parents[table] if parent == table),
                              None)
                ordered.append((table, itself))
                placed.add(table)
    return ordered


def copy_store(source_target, destination_target, *,
               on_table: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy the store at ``source_target`` into a new or empty store at
    ``destination_target``; returns the rows copied per table. Raises ``StoreError`` for a
    destination that already holds posts and ``CountMismatch`` (nothing is kept) when a
    table's count differs after the copy."""
    with open_db(source_target) as source, open_db(destination_target) as destination:
        if destination.execute("SELECT count(*) FROM sources").fetchone()[0]:
            raise StoreError("the destination store already holds sources and posts; "
                             "copy into a new or empty store")
        counts = {}
        order = copy_order()  # what triggers keep last: the other rows fire them
        with destination.atomic(), destination.triggers_paused([t for t, _ in order]):
            for table, itself in sorted(order, key=lambda entry: entry[0] in REPLACED):
                counts[table] = _copy_table(source, destination, table, itself)
                if on_table:
                    on_table(table, counts[table])
            for table, copied in counts.items():
                held = destination.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if held != copied:
                    raise CountMismatch(f"{table}: {copied} rows copied but {held} stored")
        destination.update_statistics()
    return counts


def _copy_table(source, destination, table: str, itself: str | None) -> int:
    columns = SEARCH_COLUMNS if table == SEARCH_TABLE else [
        column for column in source.columns_of(table)
        if column in set(destination.columns_of(table))]
    listed = ", ".join(f'"{column}"' for column in columns)
    order = f" ORDER BY {itself} IS NOT NULL" if itself else ""
    if table in REPLACED:
        destination.execute(f"DELETE FROM {table}")
    copied = 0
    for rows in source.stream(f"SELECT {listed} FROM {table}{order}", BATCH_ROWS):
        destination.bulk_insert(table, columns, rows)
        copied += len(rows)
    destination.follow_identity(table)
    return copied
