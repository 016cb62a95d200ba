"""The Discourse spider: JSON parsing, and real crawls of a fixture forum on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import yaml
from conftest import FIXTURES, run_crawl, write_sources
from fixture_server import _Handler
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.items import Mention
from crawlers.spiders.discourse import (
    DiscourseSpider,
    RetryAfterMiddleware,
    retry_after_seconds,
    split_cooked,
)

HERE = FIXTURES / "discourse"
FIRST, LATER, ROBOTS = HERE / "first", HERE / "later", HERE / "robots"
BASE = "https://community.volna.example"
T101 = "volna-spisala-300-za-rouming-kotorogo-ne-bylo"
T102 = "propadaye-4g-u-metro-kyyiv-chervona-gilka"
T103 = "telenova-vs-volna-roaming-in-turkey"
# A window that keeps the fixture forum's 2026 autumn and drops its older posts, whenever
# the tests run.
SINCE_DAYS = (datetime.now(UTC) - datetime(2026, 6, 1, tzinfo=UTC)).days
CHUNK_21_40 = "/t/102/posts.json?" + "&".join(f"post_ids[]={i}" for i in range(10221, 10241))
CHUNK_41_45 = "/t/102/posts.json?" + "&".join(f"post_ids[]={i}" for i in range(10241, 10246))
CHUNK_41_47 = "/t/102/posts.json?" + "&".join(f"post_ids[]={i}" for i in range(10241, 10248))


# --- helpers --------------------------------------------------------------------------------

def make_spider(tmp_path, url=BASE, since_days=SINCE_DAYS, **options):
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{
        "id": "volna", "kind": "discourse", "url": url, "since_days": since_days,
        "options": options}]}, allow_unicode=True), encoding="utf-8")
    crawler = get_crawler(DiscourseSpider, {"OTKLIK_SOURCES": str(sources),
                                            "OTKLIK_STORE_ENABLED": False})
    return DiscourseSpider.from_crawler(crawler, source="volna")


def response(url: str, path: Path | None = None, body: bytes | None = None, **kwargs):
    data = path.read_bytes() if path is not None else body
    return TextResponse(url, body=data, encoding="utf-8", request=Request(url),
                        headers={"Content-Type": "application/json"}, **kwargs)


def stats(spider) -> dict:
    return {k.removeprefix("otklik/"): v for k, v in spider.crawler.stats.get_stats().items()
            if k.startswith("otklik/")}


def serve(fixture_server, *layers):
    """The fixture server, answering ``posts.json?post_ids[]=A&post_ids[]=B…`` from the file
    ``posts.json@post_ids=A,B,…``: twenty ``post_ids[]`` pairs make a file name longer than
    the file system allows."""
    server = fixture_server(*layers)
    find = server.find

    def short_find(path, query):
        ids = re.findall(r"post_ids\[\]=(\d+)", unquote(query))
        return find(path, "post_ids=" + ",".join(ids) if ids else query)

    server.find = short_find
    return server


def hits(server) -> Counter:
    return Counter({unquote(path): count for path, count in server.hits.items()})


def source(server, source_id="volna-community", **options):
    entry = {"id": source_id, "kind": "discourse", "url": server.base_url,
             "since_days": SINCE_DAYS}
    if options:
        entry["options"] = options
    return entry


def row(db, url_tail):
    found = db.execute(
        """SELECT m.kind, m.text, m.quotes, m.title, m.thread_id, m.published_at,
                  m.edited_at, m.likes, m.replies, m.views, m.metadata, m.version,
                  a.handle, a.display_name, a.profile_url, p.url
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           LEFT JOIN mentions p ON p.id = m.parent_id
           WHERE m.url LIKE ?""", [f"%{url_tail}"]).fetchone()
    assert found, f"{url_tail} was not stored"
    keys = ("kind", "text", "quotes", "title", "thread", "published", "edited_at", "likes",
            "replies", "views", "metadata", "version", "handle", "name", "profile", "parent")
    result = dict(zip(keys, found, strict=True))
    result["quotes"] = json.loads(result["quotes"])
    result["metadata"] = json.loads(result["metadata"])
    return result


# --- parsing --------------------------------------------------------------------------------

def test_topic_posts_have_exact_fields_quotes_and_parents(tmp_path):
    spider = make_spider(tmp_path)
    url = f"{BASE}/t/101.json"
    out = list(spider.parse_topic(response(url, FIRST / "t" / "101.json"), key="topic/101"))
    assert all(isinstance(item, Mention) for item in out)
    assert [m.url for m in out] == [f"{BASE}/t/{T101}/101/{n}" for n in (1, 2, 3)]
    first, support, reply = out
    assert first.kind == "post" and first.parent_url is None
    assert first.views == 312 and first.likes == 5 and first.replies == 1
    assert first.published_at == "2026-11-18T07:12:33+00:00"
    assert first.title == "Волна списала 300 ₽ за роуминг, которого не было"
    assert support.metadata == {"post_id": 10102, "staff": True}
    assert support.author_name == "Поддержка Волны"
    assert support.parent_url == f"{BASE}/t/{T101}/101/1"  # no reply_to: the first post
    assert reply == Mention(
        source="volna",
        url=f"{BASE}/t/{T101}/101/3",
        kind="reply",
        body_html="<p>У меня то же самое после Еревана, только 450 ₽. Если Волна не вернёт — "
                  "ухожу в Теленову, там хотя бы пакет роуминга по дням.</p>",
        quotes=[{"author": "ivan_petrov",
                 "html": "<p>Волна списала 300 ₽ за «роуминг» — хотя я всё время был в Wi-Fi "
                         "отеля</p>"}],
        title="Волна списала 300 ₽ за роуминг, которого не было",
        thread_id="101",
        parent_url=f"{BASE}/t/{T101}/101/1",
        author_handle="marina_89",
        author_name="Марина",
        author_url=f"{BASE}/u/marina_89",
        published_at="2026-11-18T12:26:41+00:00",
        edited_at="2026-11-18T15:40:05+00:00",
        likes=4,
        replies=0,
        views=None,
        metadata={"post_id": 10103, "edited": True, "version": 2},
    )
    counts = stats(spider)
    assert counts["posts/parsed"] == 3 and counts["posts/small_action"] == 1
    assert counts["pages/posts_expected"] == 1


def test_long_topic_asks_for_the_rest_of_the_stream_in_chunks_of_twenty(tmp_path):
    spider = make_spider(tmp_path)
    url = f"{BASE}/t/102.json"
    out = list(spider.parse_topic(response(url, FIRST / "t" / "102.json"), key="topic/102"))
    mentions = [m for m in out if isinstance(m, Mention)]
    requests = [r for r in out if isinstance(r, Request)]
    assert len(mentions) == 20
    assert [unquote(r.url) for r in requests] == [BASE + CHUNK_21_40, BASE + CHUNK_41_45]
    assert all(r.callback == spider.parse_posts for r in requests)
    assert requests[0].cb_kwargs["earlier"] == []  # nothing stored yet: all at once
    lightboxed = mentions[0]
    assert "1280×720" not in lightboxed.body_html  # the image's size line
    assert 'alt=""' in lightboxed.body_html  # and its file name
    assert "Друга тиждень поспіль" in lightboxed.body_html
    quoted = mentions[6]
    assert quoted.quotes == [{"author": "oksana_kyiv",
                              "html": "<p>від Вокзальної до Арсенальної — «Немає мережі»</p>"}]
    chunk_url = requests[1].url
    chunk = list(spider.parse_posts(
        response(chunk_url, FIRST / "t" / "102" /
                 "posts.json@post_ids=10241,10242,10243,10244,10245"),
        **requests[1].cb_kwargs))
    assert [m.url for m in chunk] == [f"{BASE}/t/{T102}/102/{n}" for n in range(41, 46)]
    assert chunk[-1].author_handle == "volna_support"


def test_walking_back_stops_at_a_chunk_that_starts_with_a_stored_post(tmp_path, monkeypatch):
    spider = make_spider(tmp_path)
    stored = {f"{BASE}/t/{T102}/102/{n}" for n in range(1, 46)}
    monkeypatch.setattr(spider, "is_stored", lambda url: url in stored)
    out = list(spider.parse_topic(response(f"{BASE}/t/102.json", LATER / "t" / "102.json"),
                                  key="topic/102"))
    (last_chunk,) = [r for r in out if isinstance(r, Request)]
    assert unquote(last_chunk.url) == BASE + CHUNK_41_47
    assert last_chunk.cb_kwargs["earlier"] == [list(range(10221, 10241))]  # walking back
    body = (LATER / "t" / "102" /
            "posts.json@post_ids=10241,10242,10243,10244,10245,10246,10247").read_bytes()
    out = list(spider.parse_posts(response(last_chunk.url, body=body), **last_chunk.cb_kwargs))
    assert [m.url.rsplit("/", 1)[1] for m in out] == ["41", "42", "43", "44", "45", "46", "47"]
    assert stats(spider)["chunks/reached_stored"] == 1
    # a chunk that starts with a new post asks for the chunk before it
    stored -= {f"{BASE}/t/{T102}/102/41"}
    out = list(spider.parse_posts(response(last_chunk.url, body=body), **last_chunk.cb_kwargs))
    assert unquote(out[-1].url) == BASE + CHUNK_21_40


def test_listing_queues_changed_topics_and_pages_until_the_since_window(tmp_path):
    spider = make_spider(tmp_path)
    out = list(spider.parse_listing(response(f"{BASE}/latest.json", FIRST / "latest.json")))
    # the pinned topic is from 2025: not fetched, yet it does not stop the paging
    assert [r.url for r in out] == [f"{BASE}/t/{n}.json" for n in (102, 101, 103, 104)] + [
        f"{BASE}/latest.json?page=1"]
    page = response(f"{BASE}/latest.json?page=1", FIRST / "latest.json@page=1")
    out = list(spider.parse_listing(page))
    # 107 (2019) is out of the window: no topic and no page after it
    assert [r.url for r in out] == [f"{BASE}/t/105.json", f"{BASE}/t/106.json"]
    assert spider.seen_threads["topic/102"] == [45, "2026-11-20T08:45:12.000Z",
                                                "2026-11-20T08:45:12.000Z"]
    assert stats(spider)["listings/reached_since"] == 1


def test_unchanged_listing_page_stops_paging(tmp_path, monkeypatch):
    spider = make_spider(tmp_path)
    listing = json.loads((FIRST / "latest.json").read_text(encoding="utf-8"))
    known = {f"topic/{t['id']}": [t["posts_count"], t["last_posted_at"], t["bumped_at"]]
             for t in listing["topic_list"]["topics"]}
    spider._known_threads = known
    out = list(spider.parse_listing(response(f"{BASE}/latest.json", FIRST / "latest.json")))
    assert out == []
    assert stats(spider)["listings/unchanged_page"] == 1
    assert stats(spider)["threads/unchanged"] == 4


def test_each_topic_is_queued_once_across_listings_and_search(tmp_path):
    spider = make_spider(tmp_path, categories=["tariffs/7"], search=["Telenova"])
    first = list(spider.parse_listing(response(f"{BASE}/c/tariffs/7.json",
                                               FIRST / "c" / "tariffs" / "7.json")))
    assert [r.url for r in first] == [f"{BASE}/t/103.json"]
    found = list(spider.parse_search(
        response(f"{BASE}/search.json?q=Telenova", FIRST / "search.json@q=Telenova"),
        query="Telenova", page=1))
    assert [r.url for r in found] == [f"{BASE}/t/101.json", f"{BASE}/t/104.json",
                                      f"{BASE}/search.json?q=Telenova&page=2"]


def test_start_requests_follow_the_options(tmp_path):
    async def collect(spider):
        return [request async for request in spider.start()]

    spider = make_spider(tmp_path, url=f"{BASE}/forum/",
                         categories=["support/5", "devices/phones/12", "no-id", "latest"],
                         search=["Теленова роуминг"])
    requests = asyncio.run(collect(spider))
    assert [r.url for r in requests] == [
        f"{BASE}/forum/c/support/5.json", f"{BASE}/forum/c/devices/phones/12.json",
        f"{BASE}/forum/latest.json",
        f"{BASE}/forum/search.json?q=%D0%A2%D0%B5%D0%BB%D0%B5%D0%BD%D0%BE%D0%B2%D0%B0+"
        "%D1%80%D0%BE%D1%83%D0%BC%D0%B8%D0%BD%D0%B3"]
    assert stats(spider)["skipped/bad_option"] == 1
    # more_topics_url with or without the subfolder → the .json page on this forum
    assert spider.json_url("/c/support/5/l/latest?page=1") == (
        f"{BASE}/forum/c/support/5/l/latest.json?page=1")
    assert spider.json_url("/forum/latest?page=2") == f"{BASE}/forum/latest.json?page=2"
    plain = make_spider(tmp_path)
    assert [r.url for r in asyncio.run(collect(plain))] == [f"{BASE}/latest.json"]


def test_quotes_oneboxes_and_nested_quotes_are_split_from_the_authors_words():
    cooked = (
        '<p>Before</p>\n<aside class="quote no-group" data-username="a" data-post="1" '
        'data-topic="9"><div class="title"><img class="avatar" src="/x.png"> a:</div>'
        '<blockquote><p>outer</p><aside class="quote" data-username="b"><div class="title">'
        'b:</div><blockquote><p>inner</p></blockquote></aside></blockquote></aside>\n'
        '<aside class="quote no-group"><blockquote><p>anonymous</p></blockquote></aside>'
        '<p>After</p><aside class="onebox" data-onebox-src="https://telenova.example/5g">'
        "<article><h3>Telenova 5G</h3></article></aside> tail")
    body, quotes = split_cooked(cooked)
    assert body == "<p>Before</p>\n\n<p>After</p><p>https://telenova.example/5g</p> tail"
    assert [q["author"] for q in quotes] == ["a", None]
    assert quotes[0]["html"].startswith("<p>outer</p><aside")
    assert "inner" in quotes[0]["html"] and "b:" not in quotes[0]["html"]
    assert split_cooked("") == ("", [])


def test_broken_json_and_bad_posts_are_skipped_and_counted(tmp_path):
    spider = make_spider(tmp_path)
    spider.thread_changed("topic/106", [2, "x", "x"])
    url = f"{BASE}/t/106.json"
    assert list(spider.parse_topic(response(url, FIRST / "t" / "106.json"),
                                   key="topic/106")) == []
    assert "topic/106" not in spider.seen_threads  # looked at again next crawl
    assert list(spider.parse_listing(response(f"{BASE}/latest.json", body=b"[1, 2]"))) == []
    topic = {"id": 9, "slug": "s", "title": "T", "views": 1}
    assert spider.parse_post({"id": 1, "post_number": 2, "username": "u",
                              "cooked": "<p>x</p>"}, topic, url) is None
    assert spider.parse_post({"id": 1, "post_number": 2, "username": "u",
                              "created_at": "yesterday", "cooked": "<p>x</p>"},
                             topic, url) is None
    assert spider.parse_post("nonsense", topic, url) is None
    counts = stats(spider)
    assert counts["skipped/bad_json"] == 2
    assert counts["skipped/missing_fields"] == 1
    assert counts["skipped/bad_date"] == 1
    assert counts["skipped/bad_post"] == 1


def test_too_old_posts_are_not_yielded(tmp_path):
    spider = make_spider(tmp_path)
    out = list(spider.parse_topic(response(f"{BASE}/t/105.json", FIRST / "t" / "105.json"),
                                  key="topic/105"))
    assert [m.url.rsplit("/", 1)[1] for m in out] == ["3"]
    assert stats(spider)["posts/too_old"] == 2


def test_429_is_retried_and_slows_the_slot_down_for_retry_after():
    settings = DiscourseSpider.custom_settings
    assert 429 in settings["RETRY_HTTP_CODES"]
    assert "crawlers.spiders.discourse.RetryAfterMiddleware" in settings[
        "DOWNLOADER_MIDDLEWARES"]
    assert retry_after_seconds(b"30") == 30
    assert retry_after_seconds(None) == 0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date long past
    assert retry_after_seconds("soon") == 0

    slot = SimpleNamespace(delay=0.25)
    engine = SimpleNamespace(downloader=SimpleNamespace(slots={"127.0.0.1": slot}))

    crawler = get_crawler(DiscourseSpider)
    crawler.engine = engine
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    request = Request(f"{BASE}/t/1.json", meta={"download_slot": "127.0.0.1"})
    limited = response(request.url, body=b"", status=429)
    limited.headers["Retry-After"] = "7"
    assert middleware.process_response(request, limited) is limited
    assert slot.delay == 7
    assert crawler.stats.get_value("otklik/rate_limited") == 1
    middleware.raised["127.0.0.1"] = (0.25, 0)  # the wait is over
    middleware.process_response(request, response(request.url, body=b"{}"))
    assert slot.delay == 0.25


# --- real crawls ----------------------------------------------------------------------------

def test_crawl_recrawl_and_later_layer(fixture_server, tmp_path):
    server = serve(fixture_server, FIRST)
    sources = write_sources(tmp_path / "sources.yaml", source(server))
    db_path = tmp_path / "crawl.db"
    base = server.base_url

    first = run_crawl(sources, db_path)
    assert first.returncode == 0, first.stderr
    assert "volna-community: 53 new, 0 edited, 0 unchanged, 1 skipped" in first.stdout
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 53
        per_thread = dict(db.execute(
            "SELECT thread_id, count(*) FROM mentions GROUP BY thread_id").fetchall())
        assert per_thread == {"101": 3, "102": 44, "103": 3, "104": 2, "105": 1}
        reply = row(db, f"/t/{T101}/101/3")
        assert reply["kind"] == "reply" and reply["parent"] == f"{base}/t/{T101}/101/1"
        assert reply["text"] == ("У меня то же самое после Еревана, только 450 ₽. Если Волна "
                                 "не вернёт — ухожу в Теленову, там хотя бы пакет роуминга "
                                 "по дням.")
        assert reply["quotes"] == [{"author": "ivan_petrov",
                                    "text": "Волна списала 300 ₽ за «роуминг» — хотя я всё "
                                            "время был в Wi-Fi отеля"}]
        assert (reply["handle"], reply["name"], reply["profile"]) == (
            "marina_89", "Марина", f"{base}/u/marina_89")
        assert reply["published"] == "2026-11-18T12:26:41+00:00"
        assert reply["metadata"] == {"post_id": 10103, "edited": True, "version": 2}
        assert reply["likes"] == 4
        opening = row(db, f"/t/{T102}/102/1")
        assert opening["kind"] == "post" and opening["views"] == 2841
        assert opening["text"].startswith("Друга тиждень поспіль у метро")
        assert "1280×720" not in opening["text"] and "screenshot_metro" not in opening["text"]
        assert opening["likes"] == 17 and opening["parent"] is None
        english = row(db, f"/t/{T103}/103/3")
        assert english["text"] == ("Telenova's pack didn't activate for me until I rebooted "
                                   "twice. Volna worked right away.\n\n"
                                   "https://reviews.example/telenova-turkey")
        assert english["parent"] == f"{base}/t/{T103}/103/2"
        cross = row(db, "/104/2")
        assert cross["quotes"] == [{"author": "volna_support",
                                    "text": "Ответ придёт в течение 3 рабочих дней."}]
        assert cross["text"].endswith("у них на всё один ответ:")
        nameless = row(db, "/104/1")
        assert nameless["handle"] == "sergey_k" and nameless["name"] is None
        late = row(db, "/105/3")
        assert late["handle"] == "taras_lviv" and late["parent"] is None  # its parent is old
        assert db.execute("SELECT count(*) FROM mentions WHERE url LIKE '%/102/30'"
                          ).fetchone()[0] == 0  # deleted by its author
        run = store.last_runs(db)[0]
        assert run["status"] == "finished" and run["flags"] == []
        assert run["stats"]["otklik/skipped/bad_json"] == 1
        assert run["stats"]["otklik/posts/too_old"] == 2
    seen = hits(server)
    assert seen["/latest.json"] == 1 and seen["/latest.json?page=1"] == 1
    assert seen["/latest.json?page=2"] == 0  # topic 107 is from 2019
    assert seen["/t/100.json"] == 0 and seen["/t/107.json"] == 0
    assert all(seen[f"/t/{n}.json"] == 1 for n in (101, 102, 103, 104, 105, 106))
    assert seen[CHUNK_21_40] == 1 and seen[CHUNK_41_45] == 1

    again = run_crawl(sources, db_path)
    assert again.returncode == 0, again.stderr
    assert "volna-community: 0 new, 0 edited, 0 unchanged, 0 skipped" in again.stdout
    seen = hits(server)
    assert seen["/latest.json"] == 2 and seen["/latest.json?page=1"] == 1  # page 0 unchanged
    assert all(seen[f"/t/{n}.json"] == 1 for n in (101, 102, 103, 104, 105, 106))
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 53

    server.layers = [LATER, FIRST]
    later = run_crawl(sources, db_path, jobs=False)
    assert later.returncode == 0, later.stderr
    assert "volna-community: 4 new, 1 edited, 27 unchanged, 1 skipped" in later.stdout
    seen = hits(server)
    assert seen["/latest.json"] == 3 and seen["/latest.json?page=1"] == 2
    assert {n: seen[f"/t/{n}.json"] for n in (101, 102, 103, 104, 105, 106, 108)} == {
        101: 1, 102: 2, 103: 2, 104: 1, 105: 1, 106: 2, 108: 1}
    # the long topic: only its last chunk again, which starts with a stored post
    assert seen[CHUNK_41_47] == 1 and seen[CHUNK_21_40] == 1
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 57
        edited = row(db, f"/t/{T103}/103/3")
        assert edited["version"] == 2
        assert edited["edited_at"] == "2026-11-23T09:05:51+00:00"
        assert edited["text"].endswith("UPD: Telenova refunded the first day after I "
                                       "complained, so fair play to them.")
        assert db.execute("SELECT count(*) FROM mention_history").fetchone()[0] == 1
        new = row(db, f"/t/{T102}/102/47")
        assert new["parent"] == f"{base}/t/{T102}/102/46"
        assert new["text"] == "На Лесной всё ещё пусто, так что рано радуетесь."
        assert row(db, "/108/1")["title"] == "Volna 5G у Львові — коли?"
        assert row(db, "/102/1")["views"] == 3010  # engagement refreshed on an unchanged post


def test_categories_and_search_fetch_each_topic_once(fixture_server, tmp_path):
    server = serve(fixture_server, FIRST)
    entry = source(server, "volna-tariffs", categories=["support/5", "tariffs/7"],
                   search=["Telenova", "Теленова роуминг"])
    sources = write_sources(tmp_path / "sources.yaml", entry)
    result = run_crawl(sources, tmp_path / "crawl.db", jobs=False)
    assert result.returncode == 0, result.stderr
    assert "volna-tariffs: 53 new, 0 edited, 0 unchanged, 1 skipped" in result.stdout
    seen = hits(server)
    assert all(seen[f"/t/{n}.json"] == 1 for n in (101, 102, 103, 104, 105, 106))
    assert seen["/latest.json"] == 0
    assert seen["/c/support/5/l/latest.json?page=1"] == 1
    assert seen["/search.json?q=Telenova&page=2"] == 1
    assert seen["/search.json?q=Теленова+роуминг"] == 1


class _RateLimitOnce(_Handler):
    """Answers the first request for each path in ``server.limit_once`` with a 429."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        with self.server.lock:
            limited = self.path in self.server.limit_once
            self.server.limit_once.discard(self.path)
            if limited:
                self.server.hits[self.path] += 1
        if not limited:
            super().do_GET()
            return
        self.send_response(429)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_429_is_retried_after_the_wait_and_robots_txt_is_obeyed(fixture_server, tmp_path):
    # Discourse's stock robots.txt disallows /search: the search option is refused there.
    server = serve(fixture_server, ROBOTS, FIRST)
    server.RequestHandlerClass = _RateLimitOnce
    server.limit_once = {"/t/103.json"}
    entry = source(server, "volna-tariffs", categories=["tariffs/7"], search=["Telenova"])
    sources = write_sources(tmp_path / "sources.yaml", entry)
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path, jobs=False)
    assert result.returncode == 0, result.stderr
    assert "volna-tariffs: 3 new, 0 edited, 0 unchanged, 1 skipped" in result.stdout
    seen = hits(server)
    assert seen["/t/103.json"] == 2 and seen["/search.json?q=Telenova"] == 0
    with store.open_db(db_path) as db:
        run_stats = store.last_runs(db)[0]["stats"]
    assert run_stats["downloader/response_status_count/429"] == 1
    assert run_stats["otklik/rate_limited"] == 1
    assert run_stats["otklik/skipped/robots_txt"] == 1
