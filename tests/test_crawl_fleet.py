"""A crawl fleet on one Redis frontier: real ``otklik crawl --redis`` processes against a
generated forum on 127.0.0.1 — the work shared, every post stored once, a worker killed
with ``kill -9``, a next crawl after a finished one, and an unusable Redis."""

import json
import os
import signal
import subprocess
import sys
import time
from math import ceil

import pytest
import redis
from conftest import FAST_CRAWL, ROOT, run_crawl, write_sources
from local_servers import free_port

import store
from crawlers.frontier import DONE, SEED, WAIT, WORK, Frontier
from crawlers.polite import DomainSlots
from demo.phpbb import POSTS_PER_PAGE, TOPICS_PER_PAGE
from demo.site import start_server
from demo.synthetic import synthetic_forum

BOARDS, TOPICS_PER_BOARD, POSTS_PER_TOPIC = 4, 25, 25
POSTS = BOARDS * TOPICS_PER_BOARD * POSTS_PER_TOPIC
PAGES = (BOARDS * ceil(TOPICS_PER_BOARD / TOPICS_PER_PAGE)
         + BOARDS * TOPICS_PER_BOARD * ceil(POSTS_PER_TOPIC / POSTS_PER_PAGE))
WORKER = [*FAST_CRAWL, "--set", "CONCURRENT_REQUESTS=4", "--set",
          "OTKLIK_FLEET_WORKER_TIMEOUT=3"]


@pytest.fixture(scope="module")
def site():
    """A generated phpBB forum of 2,500 posts on 127.0.0.1 (a little latency per page, so
    that the workers overlap)."""
    server, base_url = start_server(
        forum=synthetic_forum(BOARDS, TOPICS_PER_BOARD, POSTS_PER_TOPIC, seed=11), delay=0.01)
    yield base_url
    server.shutdown()
    server.server_close()


def _sources(tmp_path, base_url, source_id):
    boards = [f"viewforum.php?f={board}" for board in range(1, BOARDS + 1)]
    return write_sources(tmp_path / "sources.yaml", {
        "id": source_id, "kind": "forum", "url": f"{base_url}/forum/", "since_days": 36500,
        "options": {"engine": "phpbb", "boards": boards}})


def _worker(sources, db_path, redis_url) -> subprocess.Popen:
    store.open_db(db_path).close()  # workers that start together then share a ready store
    env = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING", "OTKLIK_REDIS": redis_url}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "crawl", "--db", str(db_path), "--sources",
         str(sources), *WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=120) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, out + err
    return out + err


def _stored(db_path, source_id) -> tuple[int, int]:
    with store.open_db(db_path) as db:
        return db.execute("SELECT count(*), count(DISTINCT url) FROM mentions "
                          "WHERE source_id = ?", [source_id]).fetchone()


def _runs(db_path, source_id) -> list[dict]:
    with store.open_db(db_path) as db:
        rows = db.execute("SELECT status, stats FROM crawl_runs WHERE source_id = ? "
                          "ORDER BY id", [source_id]).fetchall()
    return [{"status": status, **json.loads(stats or "{}")} for status, stats in rows]


@pytest.mark.both_backends
def test_two_workers_share_the_crawl_and_a_next_crawl_runs_again(site, tmp_path, db_path,
                                                                  redis_url):
    sources = _sources(tmp_path, site, "shared")
    first, second = _worker(sources, db_path, redis_url), _worker(sources, db_path, redis_url)
    outputs = [_finish(first), _finish(second)]
    assert _stored(db_path, "shared") == (POSTS, POSTS), outputs
    runs = _runs(db_path, "shared")
    assert [run["status"] for run in runs] == ["finished", "finished"]
    fetched = [run.get("response_received_count", 0) for run in runs]
    assert min(fetched) > 0, fetched  # each worker fetched part of the site ...
    assert sum(fetched) == PAGES + len(runs), fetched  # ... each page once (+ robots.txt)
    assert sum(run.get("otklik/stored/inserted", 0) for run in runs) == POSTS
    left = {key.decode() for key in redis.Redis.from_url(redis_url).keys("otklik:shared:*")}
    assert left == {"otklik:shared:round", "otklik:shared:seeded", "otklik:shared:done"}

    again = run_crawl(sources, db_path, extra=["--redis", redis_url, *WORKER])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "shared: 0 new, 0 edited" in again.stdout
    assert _runs(db_path, "shared")[-1].get("response_received_count", 0) > 0
    assert _stored(db_path, "shared") == (POSTS, POSTS)


def test_a_worker_killed_mid_crawl_loses_no_request(site, tmp_path, redis_url):
    sources, db_path = _sources(tmp_path, site, "killed"), tmp_path / "otklik.db"
    survivor, victim = _worker(sources, db_path, redis_url), _worker(sources, db_path, redis_url)
    deadline = time.monotonic() + 120
    while not db_path.exists() or _stored(db_path, "killed")[0] < POSTS // 5:
        assert time.monotonic() < deadline and victim.poll() is None, "no crawl under way"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    restarted = _worker(sources, db_path, redis_url)
    outputs = [_finish(survivor), _finish(restarted)]
    assert _stored(db_path, "killed") == (POSTS, POSTS), outputs
    runs = _runs(db_path, "killed")
    assert sum(run.get("otklik/fleet/requeued", 0) for run in runs) > 0, runs


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/0", "redis://127.0.0.1:{port}/0"])
def test_an_unusable_redis_is_one_error_line_before_any_crawl(tmp_path, url):
    sources = _sources(tmp_path, "http://127.0.0.1:9", "nowhere")
    done = run_crawl(sources, tmp_path / "otklik.db",
                     extra=["--redis", url.format(port=free_port())])
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "otklik.db").exists()


def test_a_round_ends_only_when_no_worker_holds_a_request(redis_url):
    server = redis.Redis.from_url(redis_url)
    first = Frontier(server, "otklik:unit", "one", timeout=60)
    second = Frontier(server, "otklik:unit", "two", timeout=0.2)
    assert first.join() == (1, True) and second.join() == (1, False)
    assert second.settle(1) == (WAIT, 0)  # the start requests are not queued yet
    server.zadd(first.requests_key, {b"start": 0})
    server.sadd(first.dupefilter_key, "fingerprint")
    first.mark_seeded(1)
    assert second.claim() == b"start" and first.claim() is None
    assert first.settle(1) == (WAIT, 0)  # the second worker holds a request
    time.sleep(0.3)  # ... and stops beating
    assert first.settle(1) == (WORK, 1)  # its request is back in the queue
    assert first.claim() == b"start"
    first.forget_thread(1, "topic-7")
    first.release([b"start"])
    assert first.settle(1) == (DONE, 0)
    assert second.forgotten_threads(1) == {"topic-7"}
    assert not server.exists(first.dupefilter_key)
    assert first.join() == (2, True)  # the next crawl is a new round


def test_a_round_whose_seeding_worker_died_is_seeded_by_another(redis_url):
    server = redis.Redis.from_url(redis_url)
    seeder = Frontier(server, "otklik:unit-seed", "seeder", timeout=0.2)
    other = Frontier(server, "otklik:unit-seed", "other", timeout=60)
    assert seeder.join() == (1, True) and other.join() == (1, False)
    time.sleep(0.3)
    assert other.settle(1) == (SEED, 0)


def test_requests_to_one_domain_are_spaced_by_the_interval_across_workers(redis_url):
    server = redis.Redis.from_url(redis_url)
    one, other = DomainSlots(server, 10), DomainSlots(server, 10)
    waits = [one.reserve("forum.example"), other.reserve("forum.example"),
             one.reserve("forum.example"), other.reserve("other.example")]
    assert waits[0] == 0 and waits[3] == 0
    assert 9 < waits[1] <= 10 and 19 < waits[2] <= 20
