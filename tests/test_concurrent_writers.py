"""Several processes writing one store: nothing refused, nothing lost, runs told apart."""

import os
import subprocess
import sys
import threading

import pytest
from conftest import ROOT
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

import store
from cli import crawl_exit_code
from crawlers.extensions import run_status
from crawlers.items import Mention
from crawlers.pipelines import StorePipeline
from store.locks import LockBusy, hold


def test_a_transaction_that_reads_first_is_not_refused_when_another_writer_commits(db_path,
                                                                                  make_mention):
    """The crawler's batch reads (authors, existing rows) before it writes; a tagger
    committing meanwhile made SQLite refuse the upgrade at once ("database is locked")."""
    first = store.open_db(db_path)
    has_read, errors = threading.Event(), []

    def other_writer():
        with store.open_db(db_path) as second:
            has_read.wait(10)
            try:
                store.upsert_mention(second, make_mention(url="https://f.example/t/2#p2"))
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)

    writer = threading.Thread(target=other_writer)
    writer.start()
    with first.atomic():
        first.execute("SELECT count(*) FROM mentions").fetchone()
        has_read.set()
        writer.join(0.5)  # the other writer waits for this transaction (or, before, won)
        store.upsert_mention(first, make_mention(url="https://f.example/t/1#p1"))
    writer.join(10)
    assert errors == []
    assert store.count_mentions(first) == 2
    first.close()


def test_a_store_lock_is_held_by_one_process_and_freed_by_its_death(db_path):
    script = ("import sys, time; from store.locks import hold\n"
              "with hold(sys.argv[1], 'derive', 'otklik tag'):\n"
              "    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(db_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        told = []
        with pytest.raises(LockBusy) as busy, hold(db_path, "derive", "otklik analyze",
                                                   wait_seconds=0.3, on_wait=told.append):
            pass
        assert busy.value.holder["job"] == "otklik tag"
        assert busy.value.holder["pid"] == holder.pid
        assert told and told[0]["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    with hold(db_path, "derive", "otklik analyze"):  # a killed holder leaves no stale lock
        pass


def test_a_run_whose_process_is_gone_reads_interrupted(db):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    run = store.start_run(db, "forum")
    db.execute("UPDATE crawl_runs SET pid = ? WHERE id = ?", [int(dead.stdout), run])
    assert store.last_runs(db)[0]["status"] == "interrupted"
    assert not store.last_run_complete(db, "forum")
    store.start_run(db, "forum")  # the next crawl marks it for good
    assert db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run]).fetchone()[0] == (
        "interrupted")


def test_a_run_of_a_live_process_stays_running(db):
    store.start_run(db, "forum")
    assert store.last_runs(db)[0]["status"] == "running"
    assert not store.last_run_complete(db, "forum")


def test_only_a_crawl_that_stored_everything_is_finished():
    assert run_status("finished", {"otklik/stored/inserted": 5}) == "finished"
    assert run_status("finished", {"otklik/store/failed": 3}) == "store failed"
    assert run_status("shutdown", {}) == "shutdown"


@pytest.fixture
def saver(db_path):
    """The crawl's store pipeline, its database answering "locked" after 50 ms, not 30 s."""
    crawler = get_crawler(settings_dict={"OTKLIK_DB": str(db_path)})
    pipeline = build_from_crawler(StorePipeline, crawler)
    pipeline.open_spider()
    pipeline.db.execute("PRAGMA busy_timeout=50")
    pipeline.RETRY_PAUSES = (0.05,)
    return crawler, pipeline


def _posts(count):
    return [Mention(source="forum", url=f"https://f.example/t/1?p={n}", kind="reply",
                    text=f"post number {n}", author_handle=f"user{n}") for n in range(count)]


def test_a_batch_the_locked_store_refuses_is_kept_and_written_later(db_path, saver):
    crawler, pipeline = saver
    blocker = store.open_db(db_path)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the store
    for post in _posts(5):
        pipeline.process_item(post)
    pipeline.flush()
    assert len(pipeline.batch) == 5, "refused, but kept"
    assert crawler.stats.get_value("otklik/store/retried") >= 1
    blocker.execute("ROLLBACK")
    pipeline.close_spider()
    assert crawler.stats.get_value("otklik/stored/inserted") == 5
    assert not crawler.stats.get_value("otklik/store/failed")
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 5
    blocker.close()


def test_posts_never_stored_fail_the_crawl_loudly(db_path, saver):
    crawler, pipeline = saver
    blocker = store.open_db(db_path)
    blocker.execute("BEGIN IMMEDIATE")
    for post in _posts(3):
        pipeline.process_item(post)
    pipeline.close_spider()
    blocker.execute("ROLLBACK")
    blocker.close()
    stats = crawler.stats.get_stats()
    assert stats["otklik/store/failed"] == 3
    assert run_status("finished", stats) == "store failed"
    assert crawl_exit_code({"forum": {**stats, "finish_reason": "finished"}}) == 1


def test_crawl_exit_codes():
    done = {"finish_reason": "finished"}
    assert crawl_exit_code({"a": done, "b": done}) == 0
    assert crawl_exit_code({"a": done, "b": {"finish_reason": "busy"}}) == 75
    assert crawl_exit_code({"a": {"finish_reason": "shutdown"}}) == 1


def _analyze(db_path, *args):
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "analyze", "--db",
                             str(db_path), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_analyze_waits_for_a_tag_run_and_gives_up_loudly(db_path):
    store.open_db(db_path).close()
    with hold(db_path, "derive", "otklik tag"):
        out, err = _analyze(db_path, "--wait", "0").communicate(timeout=120)
    assert f"otklik tag (pid {os.getpid()}" in err and "is using the store" in err, out + err
    with hold(db_path, "derive", "otklik tag"):
        waiting = _analyze(db_path, "--wait", "120")
        line = waiting.stderr.readline()  # it says what it waits for, then waits
    assert line.startswith("waiting up to 120 s for otklik tag"), line
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, out + err
    assert "stored mentions name a brand" in out + err
