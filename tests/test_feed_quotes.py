"""Forum feeds (crawlers/spiders/rss.py): quoted words kept apart from the author's own, and
a feed that is not well-formed XML still read."""

import json
from pathlib import Path

import pytest
from conftest import run_crawl, write_sources
from scrapy import Request
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.pipelines import clean_mention
from crawlers.spiders.rss import RssSpider, parse_feed, split_feed_quotes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rss"
BASE = "http://forum.test"
FORUM_OPTIONS = {"feeds": ["posts.rss"], "full_text": "false"}


def posts_rss(well_formed: bool = False) -> bytes:
    body = (FIXTURES / "first" / "forum" / "posts.rss").read_bytes()
    body = body.replace(b"{{BASE}}", BASE.encode())
    return body.replace(b"Roaming & Volna", b"Roaming &amp; Volna") if well_formed else body


def make_spider(tmp_path):
    source = {"id": "community", "kind": "rss", "url": f"{BASE}/forum/", "since_days": 20000,
              "brands": ["volna"], "options": FORUM_OPTIONS}
    sources = write_sources(tmp_path / "sources.yaml", source)
    settings = {"OTKLIK_SOURCES": str(sources), "OTKLIK_STORE_ENABLED": False}
    return RssSpider.from_crawler(get_crawler(RssSpider, settings), source="community")


def mentions_of(tmp_path, body: bytes):
    spider = make_spider(tmp_path)
    url = f"{BASE}/forum/posts.rss"
    response = XmlResponse(url=url, body=body, request=Request(url))
    mentions = [clean_mention(mention) for mention in spider.parse_feed(response)]
    stats = {key.removeprefix("otklik/"): value
             for key, value in spider.crawler.stats.get_stats().items()
             if key.startswith("otklik/")}
    return mentions, stats


@pytest.mark.parametrize("well_formed", [True, False])
def test_discourse_and_phpbb_quotes_are_not_the_authors_words(tmp_path, well_formed):
    mentions, stats = mentions_of(tmp_path, posts_rss(well_formed))
    reply, nested, phpbb = mentions
    assert reply.author_handle == "bob_k"
    assert reply.text == "Same here, the EU pack did not switch on by itself. Support fixed " \
                         "it in a day."
    assert reply.quotes == [{"author": "alice",
                             "text": "Volna charged me 40 euros for two days in Spain."}]
    # No data-username: the author is the quote's title; the quote in it stays part of it.
    assert nested.text == "Lucky you — I waited a week."
    (quote,) = nested.quotes
    assert quote["author"] == "bob_k"
    assert "Support fixed it in a day." in quote["text"]
    assert "Volna charged me 40 euros" in quote["text"] and "alice:" not in quote["text"]
    # phpBB: <cite>Петро писав(ла):</cite>, with its "↑" link, is not quoted words.
    assert phpbb.text == "У мене так само, допомогло оновлення прошивки."
    assert phpbb.quotes == [{"author": "Петро",
                             "text": "Роутер Волни перезавантажується щогодини"}]
    assert phpbb.url == f"{BASE}/forum/viewtopic.php?p=90&t=12#p90"
    assert phpbb.published_at == "2026-11-04T17:05:00+00:00"
    assert stats.get("feeds/malformed", 0) == (0 if well_formed else 1)


def test_a_bare_ampersand_loses_no_item(tmp_path):
    feed = parse_feed(posts_rss(), f"{BASE}/forum/posts.rss")
    assert feed.malformed
    assert [item.title for item in feed.items] == [
        "Roaming & Volna: is the EU pack worth it?"] * 2 + ["Volna router keeps rebooting"]
    assert [item.author for item in feed.items] == ["bob_k", "carol", "dmytro"]
    assert feed.items[0].published == "2026-11-03T08:15:00+00:00"
    assert feed.items[0].guid == "forum.example-post-41-3"


def test_undeclared_entity_and_a_cut_off_feed():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>News&nbsp;feed</title>
      <item><title>Volna&nbsp;Home</title><link>http://forum.test/a</link>
        <description>&lt;p&gt;first&lt;/p&gt;</description></item>
      <item><title>Second</title><link>http://forum.test/b</link>
        <pubDate>Tue, 03 Nov 2026 08:15:00 +0000</pubDate><description>cut he"""
    feed = parse_feed(body, "http://forum.test/feed")
    assert feed.malformed and feed.title == "News feed"
    assert [(item.link, item.title) for item in feed.items] == [
        ("http://forum.test/a", "Volna Home"), ("http://forum.test/b", "Second")]
    assert feed.items[1].published == "2026-11-03T08:15:00+00:00"


def test_malformed_feed_keeps_the_bad_date_problem():
    body = b"""<rss version="2.0"><channel><title>t & t</title>
      <item><title>Volna</title><link>http://forum.test/a</link>
        <pubDate>32 Oct 2026 25:61:00 +0300</pubDate></item></channel></rss>"""
    feed = parse_feed(body, "http://forum.test/feed")
    assert feed.items == [] and [reason for reason, _ in feed.problems] == ["bad_date"]


@pytest.mark.parametrize(("html", "author", "quoted", "own"), [
    ('<blockquote><cite>bob wrote:</cite>old words</blockquote><p>new words</p>',
     "bob", "old words", "new words"),
    ('<blockquote class="bbCodeBlock" data-author="Marina"><div class="bbCodeBlock-title">'
     'Marina said:</div><div>Volna is slow</div></blockquote>Not for me', "Marina",
     "Volna is slow", "Not for me"),
    ("<blockquote><p>someone's words</p></blockquote><p>mine</p>", None, "someone's words",
     "mine"),
    ('<aside class="quote"><div class="title">Олег Петров:</div><blockquote>Цитата'
     '</blockquote></aside>Ответ', "Олег Петров", "Цитата", "Ответ"),
])
def test_split_feed_quotes(html, author, quoted, own):
    from crawlers.text import html_to_text
    own_html, quotes = split_feed_quotes(html)
    assert html_to_text(own_html) == own
    assert [(q["author"], html_to_text(q["html"])) for q in quotes] == [(author, quoted)]


def test_crawl_stores_forum_feed_quotes_apart(fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "first")
    base = server.base_url
    sources = write_sources(
        tmp_path / "sources.yaml",
        {"id": "community", "kind": "rss", "url": f"{base}/forum/", "since_days": 20000,
         "brands": ["volna"], "options": FORUM_OPTIONS})
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path, jobs=False)
    assert result.returncode == 0, result.stderr
    assert "community: 3 new, 0 edited, 0 unchanged, 0 skipped" in result.stdout
    with store.open_db(db_path) as db:
        rows = {row[0]: (row[1], json.loads(row[2])) for row in db.execute(
            "SELECT url, text, quotes FROM mentions")}
        (run,) = store.last_runs(db)
    text, quotes = rows[f"{base}/forum/t/roaming-eu-pack/41/3"]
    assert "40 euros" not in text
    assert quotes == [{"author": "alice",
                       "text": "Volna charged me 40 euros for two days in Spain."}]
    assert run["stats"]["otklik/feeds/malformed"] == 1
