"""Running ``otklik tag``: one worker in this process, or several worker processes of this
machine, each loading the models once. Workers share the store's pending mentions through
claims (``store.claims``), with each other and with taggers started elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import socket
import sqlite3
import traceback
from dataclasses import dataclass
from typing import Protocol

import store
from nlp.sentiment_learning import AdapterReport, prepare_sentiment
from nlp.tagger import Tagger, count_pending, tag_pending
from nlp.touchpoint_learning import FitReport, prepare
from store.locks import LockBusy, hold

JOB = "otklik tag"
POLL_SECONDS = 0.2
# failures a worker reports in one line; anything else is a bug and prints its traceback
EXPECTED = (ValueError, OSError, sqlite3.DatabaseError, store.StoreError)


@dataclass(frozen=True)
class TagJob:
    """What every worker of one ``otklik tag`` does (picklable: it goes to each process)."""

    db: str
    catalogue: str
    batch_size: int = 64
    wait: float = 3600  # seconds to wait for an analysis, or for another tagger's fit
    threads: int = 0  # torch threads per worker (0: torch's default)


class TagEvents(Protocol):
    """What a worker tells the command line while it runs."""

    def waiting(self, lock: str, holder: dict) -> None: ...  # "derive" or "fit"
    def checking(self) -> None: ...  # checking (maybe fitting) the touchpoint model
    def fitted(self, report: FitReport | AdapterReport) -> None: ...
    def pending(self, count: int) -> None: ...  # mentions left to tag, all taggers' work
    def progress(self, count: int) -> None: ...  # mentions of a batch done


def tag_store(job: TagJob, events: TagEvents) -> dict:
    """One worker's run: load the models, bring the store's touchpoint model and sentiment
    adapter up to date (one tagger fits them while the others wait, then find them current),
    tag until nothing is left to claim; returns the counts of ``nlp.tagger.tag_pending``.

    Holds the store's "derive" lock shared with other taggers: an analysis waits for all.
    """
    if job.threads:
        import torch

        torch.set_num_threads(job.threads)
    tagger = Tagger.default(job.catalogue)
    with (hold(job.db, "derive", JOB, wait_seconds=job.wait, shared=True,
               on_wait=lambda holder: events.waiting("derive", holder)),
          store.open_db(job.db) as db):
        events.checking()
        with hold(job.db, "fit", JOB, wait_seconds=job.wait,
                  on_wait=lambda holder: events.waiting("fit", holder)):
            fitted = prepare(db, tagger)
            adapted = prepare_sentiment(db, tagger)
        events.fitted(fitted)
        events.fitted(adapted)
        events.pending(count_pending(db, tagger))
        return tag_pending(db, tagger, job.batch_size, events.progress)


@dataclass
class WorkerResult:
    """How one worker process ended: its counts, or why not."""

    worker: str  # host:pid
    counts: dict | None = None
    failure: str | None = None  # one line
    busy: dict | None = None  # the holder of a lock it gave up waiting for
    exit_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.counts is not None and self.exit_code == 0


def run_workers(job: TagJob, count: int, events: TagEvents) -> list[WorkerResult]:
    """Run ``count`` worker processes of ``job`` until all have ended; their events come to
    ``events`` in this process. A worker that dies leaves its claimed batch to the others
    (this host sees its process gone), or to the next run."""
    context = multiprocessing.get_context("spawn")
    inbox = context.Queue()
    processes = [context.Process(target=_worker_main, args=(job, inbox), daemon=False)
                 for _ in range(count)]
    for process in processes:
        process.start()
    host = socket.gethostname()
    results = {process.pid: WorkerResult(f"{host}:{process.pid}") for process in processes}
    try:
        while any(process.is_alive() for process in processes):  # is_alive reaps the dead
            _deliver(inbox, results, events, POLL_SECONDS)
    finally:
        for process in processes:
            if process.is_alive():  # this process was interrupted: so are they
                process.terminate()
            process.join()
    while _deliver(inbox, results, events, POLL_SECONDS):  # what came after the last check
        pass
    for process in processes:
        results[process.pid].exit_code = process.exitcode
    return [results[process.pid] for process in processes]


def _deliver(inbox, results: dict[int, WorkerResult], events: TagEvents,
             timeout: float) -> bool:
    """Pass on one message of a worker; False when none came within ``timeout``."""
    try:
        pid, kind, payload = inbox.get(timeout=timeout)
    except queues.Empty:
        return False
    result = results[pid]
    if kind == "done":
        result.counts = payload
    elif kind == "failed":
        result.failure = payload
    elif kind == "busy":
        result.busy = payload
    elif kind == "waiting":
        events.waiting(*payload)
    else:
        getattr(events, kind)(payload)
    return True


class _Forward:
    """A worker process's events, sent to the command line's process."""

    def __init__(self, outbox):
        self.outbox, self.pid = outbox, os.getpid()

    def send(self, kind: str, payload) -> None:
        self.outbox.put((self.pid, kind, payload))

    def waiting(self, lock: str, holder: dict) -> None:
        self.send("waiting", (lock, holder))

    def checking(self) -> None:
        pass

    def fitted(self, report: FitReport | AdapterReport) -> None:
        self.send("fitted", report)

    def pending(self, count: int) -> None:
        self.send("pending", count)

    def progress(self, count: int) -> None:
        self.send("progress", count)


def _worker_main(job: TagJob, outbox) -> None:
    """A worker process: tag, then say how it ended (its exit code says it too)."""
    events = _Forward(outbox)
    try:
        counts = tag_store(job, events)
    except LockBusy as busy:
        events.send("busy", busy.holder)
        raise SystemExit(75) from None
    except Exception as error:  # noqa: BLE001 (reported to the command line in one line)
        if not isinstance(error, EXPECTED):
            traceback.print_exc()
        events.send("failed", " ".join((str(error) or type(error).__name__).split()))
        raise SystemExit(1) from None
    events.send("done", counts)
