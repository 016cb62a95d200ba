"""Named locks of a PostgreSQL store: advisory locks, held by a connection of their own.

PostgreSQL releases a session's advisory locks when its connection ends, however it ends
(a ``kill -9``, a reboot, a lost network), as the kernel releases a SQLite store's
``flock``: no stale lock is ever left behind. The holding connection's
``application_name`` says who holds it (``pid@host job``), for the waiting message of the
others, on any machine.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

POLL_SECONDS = 0.2
LABEL_CHARS = 63  # PostgreSQL's limit on application_name


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for the lock ``name``."""
    digest = hashlib.blake2b(f"otklik:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def holder_label(job: str) -> str:
    """``"1234@host otklik tag"``: what the holding connection tells the others."""
    return f"{os.getpid()}@{socket.gethostname()} {job}"[:LABEL_CHARS]


def parse_label(label: str, since: str | None) -> dict:
    """The holder dict of ``store.locks.describe_holder`` from a connection's label."""
    place, _, job = label.partition(" ")
    pid, _, host = place.partition("@")
    return {"job": job or "another process", "pid": pid, "host": host, "since": since}


@contextmanager
def hold_advisory(url: str, name: str, job: str, *, shared: bool = False,
                  wait_seconds: float = 0.0,
                  on_wait: Callable[[dict], None] | None = None) -> Iterator[None]:
    """Hold the advisory lock ``name`` of the store at ``url`` (shared ones side by side,
    an exclusive one alone) for the duration of the context; wait up to ``wait_seconds``,
    then raise ``store.locks.LockBusy`` naming a holder."""
    from store.locks import LockBusy

    key = lock_key(name)
    take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    with psycopg.connect(url, autocommit=True, application_name=holder_label(job)) as conn:
        deadline = time.monotonic() + wait_seconds
        told = False
        while not conn.execute(f"SELECT {take}(%s)", [key]).fetchone()[0]:
            holder = _holder(conn, key)
            if time.monotonic() >= deadline:
                raise LockBusy(name, holder)
            if on_wait and not told:
                on_wait(holder)
                told = True
            time.sleep(POLL_SECONDS)
        yield


def _holder(conn: psycopg.Connection, key: int) -> dict:
    """Who holds the advisory lock ``key`` now (one of them, for a shared lock)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        """SELECT a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
             AND l.classid::bigint = %s AND l.objid::bigint = %s
           LIMIT 1""", [unsigned >> 32, unsigned & 0xFFFF_FFFF]).fetchone()
    return parse_label(*row) if row else {}
