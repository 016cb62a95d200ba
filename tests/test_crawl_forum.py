"""A real ``otklik crawl`` of a phpBB forum served on 127.0.0.1."""

import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest
from conftest import ROOT, run_crawl, write_sources

import store
from demo.site import start_server


@pytest.fixture
def forum():
    server, base_url = start_server(port=0)
    yield server, base_url
    server.shutdown()
    server.server_close()


def _source(base_url, **extra):
    # The sample's posts have fixed dates: a wide since-window keeps them all in it, whenever
    # the tests run (the spider leaves out posts older than the window).
    return {"id": "community", "kind": "forum", "url": f"{base_url}/forum/",
            "since_days": 36500,
            "options": {"engine": "phpbb",
                        "boards": ["viewforum.php?f=1", "viewforum.php?f=2"]}, **extra}


def _row(db, post_id):
    row = db.execute(
        """SELECT m.text, m.quotes, m.published_at, a.handle, a.profile_url, m.title,
                  m.thread_id, m.metadata
           FROM mentions m JOIN authors a ON a.id = m.author_id
           WHERE m.url LIKE ?""", [f"%p={post_id}#p{post_id}"]).fetchone()
    assert row, f"post {post_id} was not stored"
    keys = ("text", "quotes", "published_at", "author", "profile_url", "title", "thread",
            "metadata")
    return dict(zip(keys, row, strict=True))


def test_crawl_stores_every_post_with_authors_dates_and_quotes(forum, tmp_path):
    server, base_url = forum
    sources = write_sources(tmp_path / "sources.yaml", _source(base_url))
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path)
    assert result.returncode == 0, result.stderr
    assert "community: 45 new, 0 edited, 0 unchanged, 0 skipped" in result.stdout

    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 45
        assert db.execute("SELECT count(DISTINCT thread_id) FROM mentions").fetchone()[0] == 8
        assert db.execute("SELECT count(*) FROM authors").fetchone()[0] == 16
        reply = _row(db, 2340)
        assert reply["author"] == "dmitry_nsk"
        assert json.loads(reply["quotes"]) == [{
            "author": "marina_89",
            "text": "Срок зачисления — до 3 рабочих дней после одобрения.\n\n"
                    "Прошло 4 дня. Денег нет.",
        }]
        assert reply["text"].startswith('"3 рабочих дня" у Волны это как "скоро"')
        assert "Срок зачисления" not in reply["text"]
        edited = _row(db, 2332)
        assert edited["published_at"].endswith("+00:00")
        assert json.loads(edited["metadata"])["edited"].startswith(
            "Last edited by marina_89 on Wed Sep 23, 2026")
        assert edited["title"] == "Обещали вернуть деньги за 3 дня, прошло две недели"
        assert edited["profile_url"].startswith(f"{base_url}/forum/memberlist.php?")
        ukrainian = _row(db, 2354)  # a page served in windows-1251
        assert ukrainian["text"].startswith("Дотримали слова: з 10-го жодного обриву")
        runs = store.last_runs(db)
        assert runs[0]["status"] == "finished" and runs[0]["flags"] == []


def test_recrawl_adds_no_duplicates(forum, tmp_path):
    server, base_url = forum
    sources = write_sources(tmp_path / "sources.yaml", _source(base_url))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path, jobs=False).returncode == 0
    server.hits.clear()
    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    # Nothing changed on the boards, so no topic is fetched again (and no post re-stored).
    assert "community: 0 new, 0 edited, 0 unchanged, 0 skipped" in second.stdout
    assert not [target for target in server.hits if "viewtopic.php" in target]
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 45
        assert store.last_runs(db)[0]["stats"]["otklik/threads/unchanged"] > 0


def _save_site(base_url, paths, folder):
    """Save pages of the running forum as fixture files, keyed by path and query."""
    for path in paths:
        with urllib.request.urlopen(f"{base_url}{path}") as response:
            body = response.read()
            content_type = response.headers["Content-Type"]
        route, _, query = path.lstrip("/").partition("?")
        target = folder / (f"{route}@{query}" if query else route)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        target.with_name(target.name + ".headers").write_text(f"Content-Type: {content_type}")


def test_markup_change_is_flagged_as_layout_changed(forum, fixture_server, tmp_path):
    _, live_url = forum
    original, changed = tmp_path / "original", tmp_path / "changed"
    _save_site(live_url, ["/forum/viewforum.php?f=2", "/forum/viewtopic.php?t=14"], original)
    for page in (p for p in original.rglob("*") if p.is_file()):
        target = changed / page.relative_to(original)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = page.read_bytes()
        if page.name.startswith("viewtopic"):  # neither selectors nor structure find posts
            data = data.replace(b'class="post ', b'class="message ').replace(b'id="p', b'id="x-p')
        if page.name.startswith("viewforum"):  # a new reply: the re-crawl fetches the topic
            data = re.sub(rb'<dd class="posts">(\d+)',
                          lambda m: b'<dd class="posts">%d' % (int(m[1]) + 1), data)
        target.write_bytes(data)
    server = fixture_server(original)
    source = {"id": "community", "kind": "forum", "url": f"{server.base_url}/forum/",
              "since_days": 36500,
              "options": {"engine": "phpbb", "boards": ["viewforum.php?f=2"]}}
    sources = write_sources(tmp_path / "sources.yaml", source)
    db_path = tmp_path / "crawl.db"
    first = run_crawl(sources, db_path, jobs=False)
    assert first.returncode == 0, first.stderr
    server.layers = [changed]
    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
        stored = store.count_mentions(db)
    assert stored > 0
    assert run["flags"] == ["layout changed"]
    assert "layout changed" in second.stderr


def test_health_flags_cover_board_pages_that_lost_their_topics():
    from crawlers.extensions import LAYOUT_CHANGED, health_flags

    assert health_flags({"otklik/pages/no_topics": 2}, stored_before=45) == [LAYOUT_CHANGED]
    # a source that never gave a post is not "changed" but unreadable, and says why
    assert health_flags({"otklik/pages/no_topics": 2, "otklik/engine/phpbb": 1},
                        stored_before=0) == [
        "unreadable: 2 board page(s) listed no topic that the phpbb selectors and the page "
        "structure could find"]
    assert health_flags({"otklik/pages/posts_expected": 4, "otklik/skipped/bad_date": 20},
                        stored_before=0) == [
        "unreadable: 4 topic page(s) held no readable post; skipped: bad_date 20"]
    assert health_flags({"otklik/pages/posts_expected": 3, "otklik/posts/parsed": 30},
                        stored_before=45) == []


def test_a_source_that_never_gave_a_post_is_flagged_unreadable(fixture_server, tmp_path):
    site = tmp_path / "site"
    (site / "board").mkdir(parents=True)
    (site / "board" / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>Volna club</title></head><body>"
        "<div id='app'>Loading…</div><script src='/app.js'></script></body></html>",
        encoding="utf-8")
    server = fixture_server(site)
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "spa", "kind": "forum", "url": f"{server.base_url}/board/", "since_days": 30})
    db_path = tmp_path / "crawl.db"
    crawled = run_crawl(sources, db_path, jobs=False)
    assert crawled.returncode == 0, crawled.stderr
    assert ("spa: unreadable: 1 board page(s) listed no topic that the page structure could "
            "find") in " ".join((crawled.stdout + crawled.stderr).split())
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
    assert run["flags"][0].startswith("unreadable: ")
    stats = subprocess.run([sys.executable, str(ROOT / "cli.py"), "stats", "--db", str(db_path)],
                           capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env={**os.environ, "COLUMNS": "250"})
    assert "unreadable: 1 board page(s) listed no topic" in stats.stdout
