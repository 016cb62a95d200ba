"""Operators' overlaps on one store, with real processes: a crawl while `otklik tag` runs,
two crawls at once, a cron crawl of a source that is still being crawled."""

import os
import subprocess
import sys
import time

import pytest
from conftest import FAST_CRAWL, ROOT, run_crawl, write_sources

import store
from demo.site import start_server
from demo.synthetic import synthetic_forum
from store.locks import hold

TOPICS, POSTS_PER_TOPIC = 10, 25
POSTS = TOPICS * POSTS_PER_TOPIC


@pytest.fixture
def sources(tmp_path):
    """Two generated forums on 127.0.0.1, as sources ``alpha`` and ``beta``."""
    servers, entries = [], []
    for name, seed in (("alpha", 7), ("beta", 8)):
        server, base_url = start_server(
            forum=synthetic_forum(1, TOPICS, POSTS_PER_TOPIC, seed=seed), delay=0.02)
        servers.append(server)
        entries.append({"id": name, "kind": "forum", "url": f"{base_url}/forum/",
                        "since_days": 36500,
                        "options": {"engine": "phpbb", "boards": ["viewforum.php?f=1"]}})
    yield write_sources(tmp_path / "sources.yaml", *entries)
    for server in servers:
        server.shutdown()
        server.server_close()


def _cli(*args) -> subprocess.Popen:
    env = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _crawl(sources, db_path, *source_ids) -> subprocess.Popen:
    return _cli("crawl", *source_ids, "--db", str(db_path), "--sources", str(sources),
                *FAST_CRAWL, "--set", "CONCURRENT_REQUESTS=2")


def _stored(db_path, source_id) -> tuple[int, int]:
    with store.open_db(db_path) as db:
        return db.execute("SELECT count(*), count(DISTINCT url) FROM mentions "
                          "WHERE source_id = ?", [source_id]).fetchone()


def _finish(process, timeout=300) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def test_a_crawl_while_tag_runs_stores_every_post_and_says_so(sources, tmp_path):
    db_path = tmp_path / "otklik.db"
    assert run_crawl(sources, db_path, "alpha").returncode == 0
    tagger = _cli("tag", "--db", str(db_path))
    deadline = time.monotonic() + 300
    with store.open_db(db_path) as db:  # start crawling once tags are being written
        while db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0:
            assert tagger.poll() is None, tagger.communicate()
            assert time.monotonic() < deadline, "the tagger wrote nothing"
            time.sleep(0.05)
    crawl_code, crawl_output = _finish(_crawl(sources, db_path, "beta"))
    tag_code, tag_output = _finish(tagger, timeout=600)
    assert (crawl_code, tag_code) == (0, 0), crawl_output + tag_output
    assert _stored(db_path, "beta") == (POSTS, POSTS)
    assert f"beta: {POSTS} new" in crawl_output


def test_two_crawls_at_once_and_a_third_of_a_busy_source(sources, tmp_path):
    db_path = tmp_path / "otklik.db"
    alpha, beta = _crawl(sources, db_path, "alpha"), _crawl(sources, db_path, "beta")
    alpha_again = _crawl(sources, db_path, "alpha")  # cron fired again
    (first, first_out), (beta_code, beta_out), (second, second_out) = [
        _finish(process) for process in (alpha, beta, alpha_again)]
    assert beta_code == 0, beta_out
    # one crawl of alpha ran; the overlapping one either found it busy and said so, or ran
    # after it (whichever of the two took the source first)
    assert 0 in (first, second), first_out + second_out
    for code, output in ((first, first_out), (second, second_out)):
        assert code == 0 or (code == 75 and "is crawling it" in output), output
    assert _stored(db_path, "alpha") == _stored(db_path, "beta") == (POSTS, POSTS)


def test_a_source_being_crawled_elsewhere_is_left_to_that_crawl(sources, tmp_path):
    db_path = tmp_path / "otklik.db"
    with hold(db_path, "crawl-alpha", "otklik crawl alpha"):
        code, output = _finish(_crawl(sources, db_path))
    assert code == 75, output
    assert f"alpha: not crawled: otklik crawl alpha (pid {os.getpid()}" in output
    assert _stored(db_path, "alpha") == (0, 0)
    assert _stored(db_path, "beta") == (POSTS, POSTS)
