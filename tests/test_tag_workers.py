"""Taggers side by side on one store: `otklik tag --workers N`, several `otklik tag` runs at
once (here or on other machines), a killed worker; each mention is tagged once, and an
analysis never runs while taggers do."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT
from test_tagger import lexicon_sentiment

import store
from cli import worker_failures
from config.catalogue import load_catalogue
from nlp.tag_workers import WorkerResult
from nlp.tagger import Tagger, tag_pending
from store.claims import Worker, claim_batch, keep_leased, release, renew
from store.locks import hold
from store.tags import count_pending

TEXTS = ("Волна снова списала деньги за роуминг, верните!", "Дякую Волні, все швидко.",
         "Switched to Telenova, Volna support never called back.",
         "Рекомендую Volna Home, інтернет стабільний.", "Поддержка Волны молчит третий день.")
POSTS = 16
T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ELSEWHERE = Worker("tagger-2.example", 4242)  # a worker of another machine


@pytest.fixture
def filled(db_path, make_mention):
    with store.open_db(db_path) as db:
        for i in range(POSTS):
            store.upsert_mention(db, make_mention(url=f"https://f.example/t/{i}",
                                                  author_handle=f"user{i % 5}",
                                                  text=f"{TEXTS[i % len(TEXTS)]} Пост {i}."))
    return db_path


def _claim(db, worker, size=5, now=T0, lease=60):
    rows = claim_batch(db, worker, size, lease, tag="sentiment", version="v1", now=now)
    return {row[0] for row in rows}


def _claimed(db_path):
    with store.open_db(db_path) as db:
        return db.execute("SELECT mention_id, worker, pid FROM tag_claims").fetchall()


def _tagged(db_path):
    with store.open_db(db_path) as db:
        return db.execute("SELECT count(*) FROM tags WHERE name = 'sentiment' "
                          "AND value IS NOT NULL").fetchone()[0]


@pytest.mark.both_backends
def test_workers_claim_disjoint_batches_and_pending_counts_all(filled):
    with store.open_db(filled) as db:
        first = _claim(db, Worker("a.example", 1))
        second = _claim(db, Worker("b.example", 2))
        assert len(first) == len(second) == 5 and not first & second
        assert _claim(db, Worker("a.example", 1)) == first  # until it writes them
        assert count_pending(db, "sentiment", "v1") == POSTS  # claimed is not done


@pytest.mark.both_backends
def test_an_expired_claim_of_another_host_is_taken_over_and_a_current_one_is_not(filled):
    with store.open_db(filled) as db:
        theirs = _claim(db, ELSEWHERE, size=POSTS, now=T0, lease=60)
        assert _claim(db, Worker.this_process(), now=T0 + timedelta(seconds=59)) == set()
        mine = _claim(db, Worker.this_process(), size=POSTS, now=T0 + timedelta(seconds=61))
        assert mine == theirs
        assert {worker for _, worker, _ in _claimed(filled)} == {Worker.this_process().id}


@pytest.mark.both_backends
def test_a_renewed_lease_is_not_taken_over(filled):
    with store.open_db(filled) as db:
        _claim(db, ELSEWHERE, size=POSTS, now=T0, lease=60)
        assert renew(db, ELSEWHERE, 60, now=T0 + timedelta(seconds=50)) == POSTS
        assert _claim(db, Worker.this_process(), now=T0 + timedelta(seconds=61)) == set()
        release(db, ELSEWHERE)
        assert len(_claim(db, Worker.this_process(), now=T0 + timedelta(seconds=61))) == 5


@pytest.mark.both_backends
def test_claims_of_a_dead_process_of_this_host_are_free_at_once(filled):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    living = Worker(socket.gethostname(), os.getppid())  # the process that started pytest
    now = datetime.now(UTC)
    with store.open_db(filled) as db:
        lost = _claim(db, Worker(socket.gethostname(), int(dead.stdout)), now=now, lease=3600)
        assert _claim(db, living, now=now, lease=3600) == lost  # the next claim takes them
        mine = _claim(db, Worker.this_process(), size=POSTS, now=now)
    assert not lost & mine and len(mine) == POSTS - len(lost)  # a live process keeps its


@pytest.mark.both_backends
def test_the_lease_is_renewed_while_a_batch_runs(filled):
    worker = Worker.this_process()
    with store.open_db(filled) as db:
        _claim(db, worker, now=datetime.now(UTC), lease=3)
        before = db.execute("SELECT max(lease_until) FROM tag_claims").fetchone()[0]
        deadline = time.monotonic() + 30
        with keep_leased(db, worker, 3):
            while db.execute("SELECT max(lease_until) FROM tag_claims").fetchone()[0] == before:
                assert time.monotonic() < deadline, "the lease was never renewed"
                time.sleep(0.1)


@pytest.mark.both_backends
def test_a_tagger_that_lost_its_claims_leaves_the_new_holders_work_alone(filled):
    """Its lease ran out mid-batch (a stalled machine) and another tagger took the batch:
    the late one writes nothing of it, and does not take it back."""
    with store.open_db(filled) as db:
        def stalled(texts):
            with store.open_db(filled) as other:
                later = datetime.now(UTC) + timedelta(seconds=600)
                claim_batch(other, ELSEWHERE, POSTS, 3600, tag="sentiment",
                            version=tagger.version, now=later)
            return lexicon_sentiment(texts)

        tagger = Tagger(load_catalogue(), stalled, "lexicon-1", None, None)
        counts = tag_pending(db, tagger, batch_size=5, lease_seconds=60)
        assert counts["tagged"] == 0
        assert _tagged(filled) == 0
        assert {worker for _, worker, _ in _claimed(filled)} == {ELSEWHERE.id}


def test_a_tagger_in_process_frees_its_claims_when_it_stops(filled):
    def broken(texts):
        raise OSError("weights missing")

    with store.open_db(filled) as db, pytest.raises(ValueError, match="every mention"):
        tag_pending(db, Tagger(load_catalogue(), broken, "lexicon-1", None, None))
    assert _claimed(filled) == []


# Real `otklik tag` processes with the shipped models (slow: a small store)

def _otklik(*args) -> subprocess.Popen:
    env = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=600) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, out + err
    return err


def _tagged_count(output: str) -> int:
    return int(re.search(r"^tagged (\d+) mentions", output, re.MULTILINE).group(1))


@pytest.mark.both_backends
def test_two_tag_runs_at_once_share_the_work(filled):
    runs = [_otklik("tag", "--db", str(filled), "--batch-size", "4") for _ in range(2)]
    outputs = [_finish(run) for run in runs]
    assert sum(_tagged_count(output) for output in outputs) == POSTS, outputs
    assert _tagged(filled) == POSTS and _claimed(filled) == []
    fitted = [output for output in outputs if "fitted on" in output]
    assert len(fitted) == 1, "the second run found the first one's model current"


def test_tag_workers_share_the_work_and_report_each(filled):
    output = _finish(_otklik("tag", "--db", str(filled), "--batch-size", "4", "--workers", "2"))
    per_worker = re.findall(r"^worker (\S+): tagged (\d+),", output, re.MULTILINE)
    assert len(per_worker) == 2 and sum(int(n) for _, n in per_worker) == POSTS, output
    assert _tagged_count(output) == POSTS
    assert _tagged(filled) == POSTS and _claimed(filled) == []


@pytest.mark.both_backends
def test_the_batch_of_a_killed_tagger_is_tagged_by_the_next_run_at_once(filled):
    tagger = _otklik("tag", "--db", str(filled), "--batch-size", "4")
    deadline = time.monotonic() + 300
    while not (claims := _claimed(filled)):
        assert tagger.poll() is None, tagger.communicate()
        assert time.monotonic() < deadline, "the tagger claimed nothing"
        time.sleep(0.05)
    assert claims[0][2] == tagger.pid
    tagger.send_signal(signal.SIGKILL)
    tagger.wait()
    assert _claimed(filled), "the killed tagger held a batch"
    done = _tagged(filled)
    output = _finish(_otklik("tag", "--db", str(filled), "--batch-size", "4"))
    assert _tagged_count(output) == POSTS - done
    assert _tagged(filled) == POSTS and _claimed(filled) == []


def test_a_dead_worker_fails_the_run_by_name(filled):
    with hold(filled, "fit", "otklik tag"):  # the workers wait here for their fit…
        run = _otklik("tag", "--db", str(filled), "--workers", "2")
        deadline = time.monotonic() + 300
        while len(waiting := _workers(run.pid)) < 2:
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.2)
        os.kill(waiting[0], signal.SIGKILL)  # …where one is killed
    out, err = run.communicate(timeout=300)
    assert run.returncode == 1, out + err
    last = err.strip().splitlines()[-1]
    assert last == f"error: worker {socket.gethostname()}:{waiting[0]} died (signal 9)", err
    assert _tagged(filled) == POSTS  # the other worker did the work


def _workers(pid: int) -> list[int]:
    """The worker processes ``otklik tag`` (``pid``) started."""
    import psutil

    return [child.pid for child in psutil.Process(pid).children()
            if "spawn_main" in " ".join(child.cmdline())]


@pytest.mark.both_backends
def test_analyze_waits_for_taggers_and_taggers_run_side_by_side(db_path):
    store.open_db(db_path).close()
    with hold(db_path, "derive", "otklik tag", shared=True), \
            hold(db_path, "derive", "otklik tag", shared=True):  # two taggers at once
        refused = _otklik("analyze", "--db", str(db_path), "--wait", "0")
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 75, out + err
        assert f"otklik tag (pid {os.getpid()}" in err and "is using the store" in err
        waiting = _otklik("analyze", "--db", str(db_path), "--wait", "120")
        line = waiting.stderr.readline()
    assert line.startswith("waiting up to 120 s for otklik tag"), line
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and "stored mentions name a brand" in out + err, out + err


def test_a_tagger_waits_for_an_analysis(db_path):
    store.open_db(db_path).close()
    with hold(db_path, "derive", "otklik analyze"):
        refused = _otklik("tag", "--db", str(db_path), "--wait", "0")
        out, err = refused.communicate(timeout=300)
    assert refused.returncode == 75 and "otklik analyze (pid" in err, out + err


def test_workers_that_failed_alike_are_named_in_one_line():
    ended = [WorkerResult("h:1", failure="no model"), WorkerResult("h:2", failure="no model"),
             WorkerResult("h:3", exit_code=-9)]
    assert worker_failures(ended) == ("workers h:1, h:2 failed: no model; "
                                      "worker h:3 died (signal 9)")
