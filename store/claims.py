"""Claims on the mentions a tagger works on, so that taggers side by side (processes of one
machine, or of several machines sharing one store) never tag a mention twice, and the batch
of a tagger that died is taken up again.

A worker (``host:pid``) claims a batch of pending mentions for a lease, renews the lease
while it works, then writes the batch's tags and drops its claims in one transaction,
writing only the mentions it still holds. A claim is freed when its lease ran out (a worker
of any host that stopped renewing) or at once when its worker was a process of this host
that no longer runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from store.crawl_state import process_alive
from store.db import open_db
from store.tags import PENDING, SHORTEST_FIRST

logger = logging.getLogger(__name__)
RENEW_FRACTION = 3  # a lease is renewed when a third of it has passed


@dataclass(frozen=True)
class Worker:
    """A tagging process: its host and pid; ``id`` is ``host:pid``."""

    host: str
    pid: int

    @property
    def id(self) -> str:
        return f"{self.host}:{self.pid}"

    @classmethod
    def this_process(cls) -> Worker:
        return cls(socket.gethostname(), os.getpid())


def stamp(moment: datetime) -> str:
    """The store's ISO-8601 UTC text of ``moment`` (ordered as text, like ``utc_now``)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def claim_batch(db: Database, worker: Worker, size: int, lease_seconds: float, *, tag: str,
                version: str, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Claim mentions that need a ``tag`` from ``version`` and nobody holds, for
    ``lease_seconds``, until ``worker`` holds ``size`` (first freeing claims whose lease ran
    out or whose process of this host is gone). Returns the ``(mention_id, text,
    content_hash)`` the worker holds, shortest texts first; empty when nothing is left."""
    now = now or datetime.now(UTC)
    with db.atomic():
        free_stale(db, now)
        held = db.execute("SELECT count(*) FROM tag_claims WHERE worker = ?",
                          [worker.id]).fetchone()[0]
        db.execute(
            f"""INSERT INTO tag_claims (mention_id, worker, host, pid, claimed_at, lease_until)
                SELECT m.id, ?, ?, ?, ?, ? {PENDING}
                  AND NOT EXISTS (SELECT 1 FROM tag_claims c WHERE c.mention_id = m.id)
                {SHORTEST_FIRST} LIMIT ?{_skip_locked(db, "m")}
                ON CONFLICT (mention_id) DO NOTHING""",
            [worker.id, worker.host, worker.pid, stamp(now),
             stamp(now + timedelta(seconds=lease_seconds)), tag, version, max(0, size - held)])
        return db.execute(
            f"""SELECT m.id, m.text, m.content_hash FROM tag_claims c
                JOIN mentions m ON m.id = c.mention_id
                WHERE c.worker = ? {SHORTEST_FIRST}""", [worker.id]).fetchall()


def _skip_locked(db: Database, table: str) -> str:
    """PostgreSQL: lock the rows chosen, passing over those another claim is locking (its
    claimers run side by side); SQLite's writers take turns, so nothing is needed."""
    return f" FOR UPDATE OF {table} SKIP LOCKED" if db.dialect == "postgresql" else ""


def _locked(db: Database) -> str:
    """PostgreSQL: keep the rows read until the transaction ends (a takeover waits)."""
    return " FOR UPDATE" if db.dialect == "postgresql" else ""


def free_stale(db: Database, now: datetime, host: str | None = None) -> int:
    """Drop claims whose lease ran out before ``now``, and those of processes of ``host``
    (default: this one) that no longer run; returns how many were dropped."""
    host = host or socket.gethostname()
    freed = db.execute("DELETE FROM tag_claims WHERE lease_until < ?", [stamp(now)]).rowcount
    if freed:
        logger.warning("%d claimed mentions whose lease ran out are free again", freed)
    for pid, since in db.execute(
            "SELECT pid, min(claimed_at) FROM tag_claims WHERE host = ? GROUP BY pid",
            [host]).fetchall():
        if not process_alive(pid, host, since):
            gone = db.execute("DELETE FROM tag_claims WHERE host = ? AND pid = ?",
                              [host, pid]).rowcount
            logger.warning("%d mentions claimed by %s:%s, which no longer runs, are free again",
                           gone, host, pid)
            freed += gone
    return freed


def held_by(db: Database, worker: Worker) -> set[str]:
    """The mentions ``worker`` holds now (read inside the transaction that writes them)."""
    return {mention for (mention,) in db.execute(
        f"SELECT mention_id FROM tag_claims WHERE worker = ?{_locked(db)}", [worker.id])}


def release(db: Database, worker: Worker) -> int:
    """Drop every claim of ``worker``; returns how many."""
    with db.atomic():
        return db.execute("DELETE FROM tag_claims WHERE worker = ?", [worker.id]).rowcount


def renew(db: Database, worker: Worker, lease_seconds: float,
          now: datetime | None = None) -> int:
    """Extend the lease of every claim ``worker`` still holds; returns how many."""
    until = stamp((now or datetime.now(UTC)) + timedelta(seconds=lease_seconds))
    with db.atomic():
        return db.execute("UPDATE tag_claims SET lease_until = ? WHERE worker = ?",
                          [until, worker.id]).rowcount


@contextmanager
def keep_leased(db: Database, worker: Worker, lease_seconds: float) -> Iterator[None]:
    """Renew ``worker``'s claims from a background thread (its own connection) while the
    block runs, every third of the lease, so that a long batch keeps its mentions. An
    in-memory store has no other process to take them: nothing is renewed."""
    path = db.location()
    if path is None:
        yield
        return
    stop = threading.Event()

    def renewing() -> None:
        with open_db(path, migrate=False) as own:
            while not stop.wait(lease_seconds / RENEW_FRACTION):
                try:
                    renew(own, worker, lease_seconds)
                except Exception as error:  # noqa: BLE001 (tried again next time)
                    logger.warning("cannot renew the claims of %s: %s", worker.id, error)

    thread = threading.Thread(target=renewing, name="claim-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
