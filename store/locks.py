"""Named locks of one store, held by a process for as long as it runs a job on it.

A SQLite store's lock is an advisory ``flock`` on a file beside the database
(``otklik.db.analyze.lock``): the kernel releases it when its process ends, however it ends,
so a ``kill -9`` or a reboot never leaves a stale lock behind. A lock is held by one
process, or ``shared`` by several (taggers side by side) while no one holds it alone. The
file records who holds the lock (the latest of those sharing it), for the message that
another process prints while it waits or gives up. A PostgreSQL store's locks are its
advisory locks (``store.server_locks``), which hold across machines.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from store.mentions import utc_now
from store.postgres import is_postgres_url
from store.server_locks import hold_advisory

POLL_SECONDS = 0.2


class LockBusy(Exception):
    """Another process holds the lock; ``holder`` says who, as far as it is known."""

    def __init__(self, name: str, holder: dict):
        self.name, self.holder = name, holder
        super().__init__(f"{name} is locked by {describe_holder(holder)}")


def lock_path(db_path: str | Path, name: str) -> Path | None:
    """The lock file of ``name`` for the store at ``db_path`` (``None`` for ``:memory:``)."""
    if str(db_path) == ":memory:":
        return None
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.name}.{name}.lock")


def describe_holder(holder: dict) -> str:
    """``"otklik tag (pid 123 on host, since 2026-12-07T05:01:00+00:00)"``, or what is known."""
    if not holder:
        return "another process"
    where = f"pid {holder.get('pid')}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        where += f" on {holder['host']}"
    return f"{holder.get('job', 'another process')} ({where}, since {holder.get('since')})"


@contextmanager
def hold(db_path: str | Path, name: str, job: str, *, wait_seconds: float = 0,
         on_wait: Callable[[dict], None] | None = None, shared: bool = False) -> Iterator[None]:
    """Hold the lock ``name`` of the store at ``db_path`` while the block runs, alone or
    (``shared``) with other processes that share it.

    If another process holds it in a way that excludes this one, wait up to ``wait_seconds``
    (calling ``on_wait(holder)`` once, so the caller can say what it waits for), then raise
    :class:`LockBusy`. A PostgreSQL store's locks are its advisory locks
    (``store.server_locks``), held across machines.
    """
    if is_postgres_url(db_path):
        with hold_advisory(db_path, name, job, shared=shared, wait_seconds=wait_seconds,
                           on_wait=on_wait):
            yield
        return
    path = lock_path(db_path, name)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the block)
    try:
        _acquire(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, name, wait_seconds,
                 on_wait)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"job": job, "pid": os.getpid(), "host": socket.gethostname(),
                                 "since": utc_now(), "argv": sys.argv[1:3]}))
        handle.flush()
        try:
            yield
        finally:
            if not shared or _alone(handle):  # the others sharing it keep the record
                handle.seek(0)
                handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _acquire(handle, mode: int, name: str, wait_seconds: float,
             on_wait: Callable[[dict], None] | None) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(handle)
            if time.monotonic() >= deadline:
                raise LockBusy(name, holder) from None
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            time.sleep(POLL_SECONDS)


def _alone(handle) -> bool:
    """Whether no other process shares the lock (then this one holds it alone; else it may
    hold nothing more, which suits a process about to let go)."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except ValueError:
        return {}
