"""Crawl state per source (cursors, last seen posts) and the record of crawl runs."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from typing import Any

import psutil
from sqlite_utils import Database

from store.mentions import utc_now

RUNNING, INTERRUPTED, FINISHED = "running", "interrupted", "finished"


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
    """Open a crawl run for a source, owned by this process, and return its id. Earlier runs
    of the source whose process is gone are marked interrupted."""
    with db.atomic():
        _mark_interrupted(db, source_id)
        (run_id,) = db.execute(
            "INSERT INTO crawl_runs (source_id, started_at, pid, host) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            [source_id, utc_now(), os.getpid(), socket.gethostname()],
        ).fetchone()
    return run_id


def last_run_complete(db: Database, source_id: str) -> bool:
    """True unless the source's latest crawl did not run to its end (killed, stopped, or its
    posts not all stored): the next crawl must then not stop paging at stored posts, since
    pages past them may never have been stored. A source never crawled counts as complete."""
    row = db.execute(
        "SELECT status FROM crawl_runs WHERE source_id = ? ORDER BY id DESC LIMIT 1",
        [source_id],
    ).fetchone()
    return row is None or row[0] == FINISHED


def _mark_interrupted(db: Database, source_id: str) -> None:
    rows = db.execute(
        "SELECT id, pid, host, started_at FROM crawl_runs WHERE source_id = ? AND status = ?",
        [source_id, RUNNING],
    ).fetchall()
    for run_id, pid, host, started_at in rows:
        if not process_alive(pid, host, started_at):
            db.execute("UPDATE crawl_runs SET status = ? WHERE id = ?", [INTERRUPTED, run_id])


def process_alive(pid: int | None, host: str | None, started_at: str) -> bool:
    """Whether the process that started a run at ``started_at`` still runs. A run on another
    host is taken to be alive (nothing here can tell); one with no recorded process is not."""
    if pid is None:
        return False
    if host != socket.gethostname():
        return True
    try:
        created = psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False
    return created <= datetime.fromisoformat(started_at).timestamp() + 1


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
    """The latest crawl of every source; one whose process is gone reads ``interrupted``."""
    rows = db.execute(
        """SELECT r.source_id, r.started_at, r.finished_at, r.status, r.stats, r.flags,
                  r.pid, r.host
           FROM crawl_runs r
           WHERE r.id = (SELECT max(id) FROM crawl_runs WHERE source_id = r.source_id)
           ORDER BY r.source_id"""
    ).fetchall()
    return [
        {
            "source": source,
            "started_at": started,
            "finished_at": finished,
            "status": INTERRUPTED if status == RUNNING and not process_alive(pid, host, started)
            else status,
            "stats": json.loads(stats),
            "flags": json.loads(flags),
        }
        for source, started, finished, status, stats, flags, pid, host in rows
    ]
