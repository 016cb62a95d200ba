"""Crawl state per source (cursors, last seen posts) and the record of crawl runs."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from store.mentions import utc_now


def get_state(db: Database, source_id: str, key: str, default: Any = None) -> Any:
    """A value a spider saved for ``source_id`` under ``key``, or ``default``."""
    row = db.execute(
        "SELECT value FROM crawl_state WHERE source_id = ? AND key = ?", [source_id, key]
    ).fetchone()
    return json.loads(row[0]) if row else default


def set_state(db: Database, source_id: str, key: str, value: Any) -> None:
    """Save a JSON-serialisable value for ``source_id`` under ``key``."""
    with db.atomic():
        db.execute(
            """INSERT INTO crawl_state (source_id, key, value, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value,
               updated_at = excluded.updated_at""",
            [source_id, key, json.dumps(value, ensure_ascii=False), utc_now()],
        )


def merge_state(db: Database, source_id: str, key: str, updates: dict) -> None:
    """Merge ``updates`` into the mapping saved under ``key``, in one transaction."""
    with db.atomic():
        current = get_state(db, source_id, key, {})
        current.update(updates)
        set_state(db, source_id, key, current)


def start_run(db: Database, source_id: str) -> int:
    """Open a crawl run for a source and return its id."""
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO crawl_runs (source_id, started_at) VALUES (?, ?)", [source_id, utc_now()]
        )
    return cursor.lastrowid


def finish_run(
    db: Database, run_id: int, status: str, stats: dict, flags: list[str] | None = None
) -> None:
    """Close a crawl run with its outcome, its counts and any flags (e.g. ``layout changed``)."""
    with db.atomic():
        db.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, stats = ?, flags = ? WHERE id = ?",
            [
                utc_now(),
                status,
                json.dumps(stats, ensure_ascii=False, sort_keys=True, default=str),
                json.dumps(flags or []),
                run_id,
            ],
        )


def last_runs(db: Database) -> list[dict]:
    """The latest finished or running crawl of every source."""
    rows = db.execute(
        """SELECT r.source_id, r.started_at, r.finished_at, r.status, r.stats, r.flags
           FROM crawl_runs r
           WHERE r.id = (SELECT max(id) FROM crawl_runs WHERE source_id = r.source_id)
           ORDER BY r.source_id"""
    ).fetchall()
    return [
        {
            "source": source,
            "started_at": started,
            "finished_at": finished,
            "status": status,
            "stats": json.loads(stats),
            "flags": json.loads(flags),
        }
        for source, started, finished, status, stats, flags in rows
    ]
