"""``max_pages`` is a hard cap on one crawl's requests; what is left over is kept and fetched
first by the next crawl, so a deep forum completes over successive crawls."""

import pytest
from conftest import run_crawl, write_sources

import store
from demo.site import start_server
from demo.synthetic import synthetic_forum

TOPICS, POSTS_PER_TOPIC, BUDGET = 8, 25, 10  # 8 topics of 3 pages, 2 board pages


@pytest.fixture
def forum():
    server, base_url = start_server(forum=synthetic_forum(1, TOPICS, POSTS_PER_TOPIC))
    yield server, base_url
    server.shutdown()
    server.server_close()


def _pages(server) -> int:
    return sum(count for target, count in server.hits.items() if "robots.txt" not in target)


def test_the_budget_holds_and_left_over_pages_come_first_next_time(forum, tmp_path):
    server, base_url = forum
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "deep", "kind": "forum", "url": f"{base_url}/forum/", "since_days": 36500,
        "max_pages": BUDGET, "options": {"engine": "phpbb", "boards": ["viewforum.php?f=1"]}})
    db_path = tmp_path / "crawl.db"
    stored, crawls = [], 0
    while crawls < 8:
        before = _pages(server)
        crawled = run_crawl(sources, db_path, jobs=False)
        assert crawled.returncode == 0, crawled.stderr
        crawls += 1
        assert _pages(server) - before <= BUDGET, "max_pages is a hard cap"
        with store.open_db(db_path) as db:
            stored.append(store.count_mentions(db))
            (run,) = store.last_runs(db)
            left = store.get_state(db, "deep", "leftover_pages", [])
        if not left:
            break
        assert run["stats"]["otklik/pages/left_over"] >= len(left)
    assert stored[-1] == TOPICS * POSTS_PER_TOPIC, stored
    assert crawls > 1 and stored == sorted(stored), "each crawl adds what the last one left"
    assert run["stats"].get("otklik/pages/carried_over", 0) > 0
