"""A crawl stopped mid-way, then run again: the same final rows, no duplicates."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import FAST_CRAWL, ROOT, run_crawl, write_sources

import store
from demo.site import start_server
from demo.synthetic import synthetic_forum

TOPICS, POSTS_PER_TOPIC = 20, 25


@pytest.fixture
def slow_forum():
    server, base_url = start_server(forum=synthetic_forum(1, TOPICS, POSTS_PER_TOPIC),
                                    delay=0.05)
    yield server, base_url
    server.shutdown()
    server.server_close()


def _start_crawl(sources, db_path):
    command = [sys.executable, str(ROOT / "cli.py"), "crawl", "--db", str(db_path),
               "--sources", str(sources), *FAST_CRAWL, "--set", "CONCURRENT_REQUESTS=2"]
    env = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stored(db_path) -> int:
    if not db_path.exists():
        return 0
    with store.open_db(db_path) as db:
        return store.count_mentions(db)


def _stop_midway(process, db_path, sig, at=100):
    deadline = time.monotonic() + 60
    while _stored(db_path) < at:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the crawl stored nothing"
        time.sleep(0.05)
    process.send_signal(sig)
    process.communicate(timeout=60)
    stopped_at = _stored(db_path)
    assert 0 < stopped_at < TOPICS * POSTS_PER_TOPIC, "stopped mid-way"
    return stopped_at


def _assert_complete(db_path):
    with store.open_db(db_path) as db:
        total, distinct = db.execute("SELECT count(*), count(DISTINCT url) FROM mentions"
                                     ).fetchone()
        assert total == distinct == TOPICS * POSTS_PER_TOPIC
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture
def sources(slow_forum, tmp_path):
    _, base_url = slow_forum
    return write_sources(tmp_path / "sources.yaml", {
        "id": "synthetic", "kind": "forum", "url": f"{base_url}/forum/", "since_days": 36500,
        "options": {"engine": "phpbb", "boards": ["viewforum.php?f=1"]}})


def test_graceful_stop_resumes_from_the_job_queue(slow_forum, sources, tmp_path):
    server, _ = slow_forum
    db_path = tmp_path / "crawl.db"
    _stop_midway(_start_crawl(sources, db_path), db_path, signal.SIGINT)
    assert (tmp_path / "jobs" / "synthetic").is_dir(), "the queue is kept to resume"
    fetched_before = sum(server.hits.values())
    resumed = run_crawl(sources, db_path)
    assert resumed.returncode == 0, resumed.stderr
    _assert_complete(db_path)
    pages = TOPICS * -(-POSTS_PER_TOPIC // 10) + -(-TOPICS // 5)
    fetched_after = sum(server.hits.values()) - fetched_before
    assert fetched_after < pages, "the resumed crawl did not start over"
    assert not (tmp_path / "jobs" / "synthetic").exists(), "a finished crawl drops its queue"


@pytest.mark.parametrize("at", [1, 100, 250])
def test_hard_kill_starts_over_without_duplicates(sources, tmp_path, at):
    db_path = tmp_path / "crawl.db"
    _stop_midway(_start_crawl(sources, db_path), db_path, signal.SIGKILL, at)
    with store.open_db(db_path) as db:
        assert store.last_runs(db)[0]["status"] == "interrupted"
    again = run_crawl(sources, db_path)
    assert again.returncode == 0, again.stderr
    assert "killed hard; starting it over" in again.stderr
    assert "did not finish: paging on past stored posts" in again.stderr
    _assert_complete(db_path)
    with store.open_db(db_path) as db:
        statuses = [status for (status,) in db.execute(
            "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["interrupted", "finished"]
