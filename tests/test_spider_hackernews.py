"""The Hacker News spider: saved Algolia search pages parsed, then real crawls."""

import asyncio
import json
import shutil
from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.items import Mention
from crawlers.markdown_quotes import split_paragraph_quotes
from crawlers.pipelines import clean_mention
from crawlers.spiders.hackernews import HackerNewsSpider
from crawlers.text import html_to_text

PAGES = FIXTURES / "hackernews"
BASE = "http://hn.test/api/v1"
ITEM = "https://news.ycombinator.com/item?id="
USER = "https://news.ycombinator.com/user?id="
ESIM = "Ask HN: Which Ukrainian mobile operator has usable eSIM support?"


def _search(query, page):
    return (f"/api/v1/search_by_date?query={query}&tags=%28story%2Ccomment%29"
            f"&hitsPerPage=100&page={page}")


def _source(base_url, options=None):
    return {"id": "hn", "kind": "hackernews", "url": base_url, "since_days": 36500,
            "options": {"queries": ["volna", "telenova"]} if options is None else options}


def _spider(tmp_path, options=None, *, store_enabled=False):
    sources = write_sources(tmp_path / "sources.yaml", _source(BASE, options))
    crawler = get_crawler(HackerNewsSpider, {
        "OTKLIK_SOURCES": str(sources), "OTKLIK_DB": str(tmp_path / "unit.db"),
        "OTKLIK_STORE_ENABLED": store_enabled})
    return HackerNewsSpider.from_crawler(crawler, source="hn")


def _response(query, page, layer="first") -> TextResponse:
    """A saved search page as the spider would receive it."""
    name = f"api/v1/search_by_date@query={query}&tags=(story,comment)&hitsPerPage=100&page={page}"
    body = (PAGES / layer / name).read_bytes()
    url = "http://hn.test" + _search(query, page)
    return TextResponse(url=url, body=body, encoding="utf-8", request=Request(url))


def _run(spider, response, query="volna"):
    output = list(spider.parse_search(response, query=query))
    mentions = [clean_mention(item) for item in output if isinstance(item, Mention)]
    requests = [item for item in output if isinstance(item, Request)]
    return mentions, requests


def _stats(spider):
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


# --- parsing saved pages ------------------------------------------------------------------


def test_first_page_gives_stories_and_comments_with_quotes_and_the_next_page(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _response("volna", 0))

    assert [m.url for m in mentions] == [ITEM + n for n in
                                         ("42210105", "42210103", "42210100", "42208800")]
    quoting, ukrainian, ask, show = mentions
    assert (quoting.kind, quoting.title, quoting.thread_id, quoting.parent_url,
            quoting.author_handle, quoting.author_url, quoting.published_at, quoting.likes,
            quoting.replies, quoting.metadata) == (
        "comment", ESIM, "42210100", ITEM + "42210103", "grisha_dev", USER + "grisha_dev",
        "2026-11-23T16:20:00+00:00", None, None, {})
    assert quoting.text == ("That was before their app update in October. Now activation is "
                            "instant through the QR code in the app.")
    assert quoting.quotes == [{"author": None,
                               "text": "Volna's eSIM activation took a full day for me"}]
    assert ukrainian.text == ("Volna — найкраще покриття у Львові, але eSIM активували лише з "
                              "другої спроби. Telenova зробила все за 5 хвилин.")
    assert ukrainian.parent_url == ITEM + "42210100"
    assert (ask.kind, ask.title, ask.thread_id, ask.parent_url, ask.likes, ask.replies,
            ask.published_at, ask.metadata) == (
        "post", ESIM, "42210100", None, 37, 12, "2026-11-23T14:05:00+00:00", {})
    assert ask.text == ("I'm moving to Kyiv for a year. Volna and Telenova both advertise eSIM, "
                        "but the reviews are mixed.\n\nDoes anyone have recent experience? I "
                        "mostly care about activating it from abroad.")
    # A link story has no text of its own: its title is what it says.
    assert (show.text, show.title, show.metadata, show.likes) == (
        "Show HN: Open-sourcing Volna's network telemetry pipeline",
        "Show HN: Open-sourcing Volna's network telemetry pipeline",
        {"link": "https://volna.example/blog/telemetry-oss"}, 120)

    assert [r.url for r in requests] == ["http://hn.test" + _search("volna", 1)]
    assert requests[0].cb_kwargs == {"query": "volna"}
    assert _stats(spider) == {"pages/posts_expected": 1, "posts/parsed": 4}


def test_last_page_merges_neighbouring_quoted_paragraphs_and_keeps_code(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _response("volna", 1))
    code, russian, ask = mentions
    assert code.text == ("Nice to see a telco publishing this. Why Kafka and not NATS?\n\n"
                         "volna-telemetry --sink kafka\n\nLooks like the sink is pluggable anyway.")
    assert code.metadata == {"story_url": "https://volna.example/blog/telemetry-oss"}
    assert russian.text == "Волна делала то же самое в 2024, только штраф был меньше.\n\nКлассика."
    assert russian.quotes == [{"author": None,
                               "text": "misleading roaming ads\n\n«безлимит» с лимитом 20 ГБ"}]
    assert (ask.kind, ask.author_handle, ask.replies) == ("post", "sms_gw", 2)
    assert requests == []


def test_broken_json_is_skipped_and_counted(tmp_path):
    spider = _spider(tmp_path)
    assert _run(spider, _response("telenova", 1), "telenova") == ([], [])
    assert _stats(spider) == {"pages/posts_expected": 1, "skipped/bad_json": 1}


def test_hits_without_id_or_date_are_skipped_and_end_paging(tmp_path):
    spider = _spider(tmp_path)
    page = _response("volna", 0)
    data = json.loads(page.text)
    for hit in data["hits"]:
        hit["id"] = hit.pop("objectID")
    assert _run(spider, page.replace(body=json.dumps(data).encode())) == ([], [])
    assert _stats(spider) == {"pages/posts_expected": 1, "skipped/missing_fields": 4}

    data = json.loads(page.text)
    data["hits"][0].pop("created_at_i")
    data["hits"][0]["created_at"] = "yesterday"
    mentions, _ = _run(spider, page.replace(body=json.dumps(data).encode()))
    assert len(mentions) == 3
    assert _stats(spider)["skipped/bad_date"] == 1

    assert _run(spider, page.replace(body=b'{"results": []}')) == ([], [])
    assert _stats(spider)["skipped/bad_listing"] == 1
    empty = {"hits": [], "nbHits": 0, "nbPages": 0, "page": 0, "hitsPerPage": 100}
    before = _stats(spider)["pages/posts_expected"]
    assert _run(spider, page.replace(body=json.dumps(empty).encode())) == ([], [])
    assert _stats(spider)["pages/posts_expected"] == before  # nothing found is no change


def test_paging_stops_at_a_page_of_stored_hits(tmp_path):
    spider = _spider(tmp_path, store_enabled=True)
    stored, _ = _run(spider, _response("volna", 0))
    for mention in stored:
        store.upsert_mention(spider.db, vars(mention))
    again = _spider(tmp_path, store_enabled=True)
    mentions, requests = _run(again, _response("volna", 0))
    assert len(mentions) == 4 and requests == []  # re-sent (an edit would show), no paging

    later = _spider(tmp_path, store_enabled=True)
    mentions, requests = _run(later, _response("volna", 0, "later"))
    assert [m.url for m in mentions] == [ITEM + n for n in
                                         ("42213001", "42212000", "42210105", "42210103")]
    assert [r.url for r in requests] == ["http://hn.test" + _search("volna", 1)]


def test_hits_before_the_since_window_are_left_out_and_end_paging(tmp_path):
    spider = _spider(tmp_path)
    spider.since = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    mentions, requests = _run(spider, _response("volna", 0))
    assert [m.url for m in mentions] == [ITEM + "42210105", ITEM + "42210103"]
    assert requests == []


def test_options_name_queries_tags_and_where_items_are_shown(tmp_path):
    spider = _spider(tmp_path, {"queries": ["Волна"], "tags": "comment",
                                "item_url": "https://hn.example/item",
                                "user_url": "https://hn.example/user"})
    (request,) = _start(spider)
    assert request.url == (f"{BASE}/search_by_date?query=%D0%92%D0%BE%D0%BB%D0%BD%D0%B0"
                           "&tags=comment&hitsPerPage=100&page=0")
    mentions, _ = _run(spider, _response("volna", 0))
    assert (mentions[0].url, mentions[0].parent_url, mentions[0].author_url) == (
        "https://hn.example/item?id=42210105", "https://hn.example/item?id=42210103",
        "https://hn.example/user?id=grisha_dev")


def _start(spider):
    """The requests the spider's ``async start()`` yields."""

    async def collect():
        return [request async for request in spider.start()]

    return asyncio.run(collect())


@pytest.mark.parametrize("options", [{}, {"queries": []}, {"queries": "volna", "tags": ["x"]}])
def test_wrong_options_fail_before_crawling(tmp_path, options):
    with pytest.raises(ValueError, match="hackernews"):
        _spider(tmp_path, options)


@pytest.mark.parametrize(("html", "own", "quotes"), [
    ("&gt; quoted<p>mine", "mine", ["quoted"]),
    ("<p>&gt;a</p><p>&gt; b</p><p>mine</p><p>&gt; c</p>", "mine", ["a\n\nb", "c"]),
    ("<i>&gt; italic quote</i><p>reply", "reply", ["italic quote"]),
    ("x &gt; y<p>a-&gt;b", "x > y\n\na->b", []),
    ("", "", []),
])
def test_hn_paragraph_quotes(html, own, quotes):
    own_html, quote_html = split_paragraph_quotes(html)
    assert html_to_text(own_html) == own
    assert [html_to_text(quote) for quote in quote_html] == quotes


# --- real crawls ----------------------------------------------------------------------------


def _row(db, item_id):
    row = db.execute(
        """SELECT m.kind, m.text, m.quotes, m.published_at, a.handle, a.profile_url, m.title,
                  m.thread_id, m.parent_id, m.likes, m.replies, m.version, m.id
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           WHERE m.url = ?""", [ITEM + item_id]).fetchone()
    assert row, f"item {item_id} was not stored"
    keys = ("kind", "text", "quotes", "published_at", "author", "profile_url", "title",
            "thread", "parent_id", "likes", "replies", "version", "id")
    return dict(zip(keys, row, strict=True))


def test_crawl_stores_stories_and_comments(fixture_server, tmp_path):
    server = fixture_server(PAGES / "first")
    sources = write_sources(tmp_path / "sources.yaml", _source(server.base_url + "/api/v1"))
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path)
    assert result.returncode == 0, result.stderr
    assert "hn: 8 new, 0 edited, 0 unchanged, 1 skipped" in result.stdout

    with store.open_db(db_path) as db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM mentions GROUP BY kind").fetchall())
        assert kinds == {"post": 4, "comment": 4}
        comment = _row(db, "42205012")
        assert (comment["kind"], comment["author"], comment["profile_url"],
                comment["published_at"], comment["title"], comment["thread"],
                comment["parent_id"]) == (
            "comment", "sergey_m", USER + "sergey_m", "2026-11-21T09:45:00+00:00",
            "Telenova fined for misleading roaming ads", "42205000", _row(db, "42205000")["id"])
        assert comment["text"] == ("Волна делала то же самое в 2024, только штраф был меньше."
                                   "\n\nКлассика.")
        assert json.loads(comment["quotes"]) == [{
            "author": None, "text": "misleading roaming ads\n\n«безлимит» с лимитом 20 ГБ"}]
        story = _row(db, "42205000")
        assert (story["kind"], story["author"], story["likes"], story["replies"],
                story["text"]) == ("post", "eu_policy", 88, 31,
                                   "Telenova fined for misleading roaming ads")
        (run,) = store.last_runs(db)
    assert run["status"] == "finished" and run["flags"] == []
    assert run["stats"]["otklik/skipped/bad_json"] == 1
    assert server.hits[_search("telenova", 1)] == 1


def test_recrawl_adds_nothing_then_reads_only_new_pages(fixture_server, tmp_path):
    first, later = PAGES / "first", PAGES / "later"
    server = fixture_server(first)
    sources = write_sources(tmp_path / "sources.yaml", _source(server.base_url + "/api/v1"))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path).returncode == 0

    server.hits.clear()
    again = run_crawl(sources, db_path)
    assert again.returncode == 0, again.stderr
    assert "hn: 0 new, 0 edited, 5 unchanged, 0 skipped" in again.stdout
    assert server.hits[_search("volna", 0)] == server.hits[_search("telenova", 0)] == 1
    assert server.hits[_search("volna", 1)] == server.hits[_search("telenova", 1)] == 0
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 8

    server.hits.clear()
    server.layers = [later, first]
    result = run_crawl(sources, db_path)
    assert result.returncode == 0, result.stderr
    assert "hn: 2 new, 1 edited, 5 unchanged, 0 skipped" in result.stdout
    assert server.hits[_search("volna", 0)] == server.hits[_search("volna", 1)] == 1
    assert server.hits[_search("volna", 2)] == 0  # page 1 was all stored
    assert server.hits[_search("telenova", 1)] == 0
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 10
        edited = _row(db, "42210105")
        assert edited["version"] == 2
        assert edited["text"].endswith("(Edit: iOS only; Android still waits for an SMS code.)")
        outage = _row(db, "42212000")
        assert (outage["kind"], outage["title"], outage["text"]) == (
            "post", "Ask HN: Volna mobile data down in Kyiv?",
            "Mobile data has been down since 00:30.\n\nThat's all their status page says.")
        assert json.loads(outage["quotes"]) == [
            {"author": None, "text": "We are aware of the issue and working on it"}]
        assert _row(db, "42213001")["parent_id"] == _row(db, "42210100")["id"]


def test_changed_json_is_flagged_as_layout_changed(fixture_server, tmp_path):
    first, changed = PAGES / "first", tmp_path / "changed"
    shutil.copytree(first, changed)
    for page in (p for p in changed.rglob("*") if p.is_file()):
        page.write_text(page.read_text(encoding="utf-8").replace('"hits"', '"results"'),
                        encoding="utf-8")
    server = fixture_server(first)
    sources = write_sources(tmp_path / "sources.yaml",
                            _source(server.base_url + "/api/v1", {"queries": ["volna"]}))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path, jobs=False).returncode == 0
    server.layers = [changed]
    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
    assert run["flags"] == ["layout changed"]
    assert run["stats"]["otklik/skipped/bad_listing"] == 1


def test_fixtures_are_json_except_the_broken_page():
    broken = []
    for page in (p for p in PAGES.rglob("*") if p.is_file()):
        try:
            json.loads(page.read_text(encoding="utf-8"))
        except ValueError:
            broken.append(page.relative_to(PAGES).as_posix())
    assert broken == ["first/api/v1/search_by_date@query=telenova&tags=(story,comment)"
                      "&hitsPerPage=100&page=1"]
