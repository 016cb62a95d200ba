"""The Reddit spider: saved listings and comment trees parsed, then real crawls."""

import json
import shutil
from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

import store
from crawlers.items import Mention
from crawlers.markdown_quotes import split_markdown
from crawlers.pipelines import clean_mention
from crawlers.spiders.reddit import RedditSpider
from crawlers.text import html_to_text

PAGES = FIXTURES / "reddit"
BASE = "http://reddit.test"
NEW = "/r/VolnaMobile/new.json?limit=100&raw_json=1"
SEARCH = "/search.json?q=volna&sort=new&limit=100&raw_json=1"
P1 = "/r/VolnaMobile/comments/1h2k9vq/volna_roaming_in_poland_charged_twice_for_one_day/"
P3 = "/r/VolnaMobile/comments/1h2ew8d/перейшла_з_telenova_на_volna_враження_за_місяць/"
P4 = "/r/VolnaMobile/comments/1h2b1cx/volna_launches_5g_in_kharkiv_telenova_promises_q1/"
MORE = ("/api/morechildren.json?link_id=t3_1h2k9vq&children=m0v1a05%2Cm0v1a06"
        "&api_type=json&raw_json=1")


DEFAULT_OPTIONS = {"subreddits": ["VolnaMobile"], "search": ["volna"]}


def _source(base_url, options=None):
    return {"id": "reddit", "kind": "reddit", "url": base_url, "since_days": 36500,
            "options": DEFAULT_OPTIONS if options is None else options}


def _spider(tmp_path, options=None, *, store_enabled=False):
    sources = write_sources(tmp_path / "sources.yaml", _source(BASE, options))
    crawler = get_crawler(RedditSpider, {
        "OTKLIK_SOURCES": str(sources), "OTKLIK_DB": str(tmp_path / "unit.db"),
        "OTKLIK_STORE_ENABLED": store_enabled})
    return RedditSpider.from_crawler(crawler, source="reddit")


def _response(path: str, layer: str = "first") -> TextResponse:
    """A saved answer as the spider would receive it for ``BASE + path``."""
    route, _, query = path.lstrip("/").partition("?")
    name = f"{route}@{query.replace('%2C', ',')}" if query else route
    body = (PAGES / layer / name).read_text(encoding="utf-8").replace("{{BASE}}", BASE)
    url = BASE + path
    return TextResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


def _split(output):
    mentions = [clean_mention(item) for item in output if isinstance(item, Mention)]
    requests = [item for item in output if isinstance(item, Request)]
    return mentions, requests


def _stats(spider):
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


def _thread(post_path, post_id, title):
    return {"key": f"t3_{post_id}", "post_id": post_id, "post_url": BASE + post_path,
            "title": title, "subreddit": "VolnaMobile"}


P1_THREAD = _thread(P1, "1h2k9vq", "Volna roaming in Poland: charged twice for one day?")


# --- parsing saved answers ----------------------------------------------------------------


def test_listing_page_gives_posts_with_authors_dates_quotes_and_the_next_page(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _split(list(spider.parse_listing(_response(NEW))))

    assert [m.url for m in mentions] == [
        BASE + P1, f"{BASE}/r/VolnaMobile/comments/1h2hq3m/"
        "телефон_не_ловит_сеть_в_метро_после_обновления/", BASE + P3, BASE + P4]
    roaming, deleted, ukrainian, link = mentions
    assert (roaming.kind, roaming.title, roaming.thread_id, roaming.author_handle,
            roaming.author_url, roaming.published_at, roaming.edited_at, roaming.likes,
            roaming.replies, roaming.metadata, roaming.parent_url) == (
        "post", "Volna roaming in Poland: charged twice for one day?", "1h2k9vq", "kyiv_roamer",
        f"{BASE}/user/kyiv_roamer", "2026-11-23T18:40:00+00:00", None, 42, 6,
        {"subreddit": "VolnaMobile"}, None)
    assert roaming.text == (
        "Crossed into Poland last night on the Lviv–Przemyśl train.\n\n"
        "From Volna's roaming page:\n\n"
        'I got two charges: 23:40 and 00:10. Is that what "once per day" means? Support chat '
        "just sends me the same link.")
    assert roaming.quotes == [{
        "author": None,
        "text": 'The "Europe Day" package is charged once per calendar day of use.'}]

    assert (deleted.author_handle, deleted.author_url) == (None, None)
    assert deleted.text.startswith("После вчерашнего обновления прошивки")
    assert (ukrainian.edited_at, ukrainian.metadata) == (
        "2026-11-22T21:30:00+00:00", {"subreddit": "VolnaMobile", "edited": True})
    assert ukrainian.text.endswith("**UPD:** тариф «Безмежний» подорожчав на 20 грн з грудня."
                                   .replace("**", ""))
    assert (link.text, link.title) == ("Volna launches 5G in Kharkiv, Telenova promises Q1",) * 2
    assert link.metadata == {"subreddit": "VolnaMobile",
                             "link": "https://telecomnews.example/2026/11/volna-5g-kharkiv"}

    assert [r.url for r in requests] == [
        f"{BASE}/comments/1h2k9vq.json?raw_json=1", f"{BASE}/comments/1h2ew8d.json?raw_json=1",
        f"{BASE}/comments/1h2b1cx.json?raw_json=1", f"{BASE}{NEW}&after=t3_1h2b1cx"]
    assert requests[0].cb_kwargs["thread"] == P1_THREAD
    assert _stats(spider) == {"pages/posts_expected": 1, "posts/parsed": 4}


def test_last_page_has_no_next_page_and_a_stickied_post_is_flagged(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _split(list(spider.parse_listing(_response(f"{NEW}&after=t3_1h2b1cx"))))
    assert [m.title for m in mentions] == [
        "Волна vs Теленова: где дешевле мобильный интернет?",
        "Weekly support thread — post your Volna questions here"]
    assert mentions[0].text == ("Сравнил тарифы на 30 ГБ:\n\nВолна — 250 грн\n\n"
                                "Теленова — 280 грн\n\nНо у Волны после лимита скорость режут "
                                "до 64 кбит/с, а у Теленовы — до 1 Мбит/с.")
    assert mentions[1].metadata == {"subreddit": "VolnaMobile", "stickied": True}
    assert [r.url for r in requests] == [f"{BASE}/comments/1h27zpa.json?raw_json=1"]


def test_comment_tree_gives_comments_with_parents_and_asks_for_the_more_stub(tmp_path):
    spider = _spider(tmp_path)
    output = list(spider.parse_comments(_response("/comments/1h2k9vq.json?raw_json=1"),
                                        thread=P1_THREAD))
    mentions, requests = _split(output)

    support, answer, commuter = mentions
    assert (support.url, support.kind, support.parent_url, support.author_handle,
            support.published_at, support.likes, support.title, support.thread_id) == (
        f"{BASE}{P1}m0v1a01/", "comment", BASE + P1, "volna_support",
        "2026-11-23T19:02:00+00:00", 12, "Volna roaming in Poland: charged twice for one day?",
        "1h2k9vq")
    assert support.text.startswith('Hi! Sorry about that. "Europe Day" is billed per calendar '
                                   "day in Kyiv time")
    assert (answer.url, answer.parent_url) == (f"{BASE}{P1}m0v1a02/", f"{BASE}{P1}m0v1a01/")
    assert answer.quotes == [{"author": None, "text": "billed per calendar day in Kyiv time"}]
    assert answer.text == ("This is written nowhere on the roaming page. Poland is one hour "
                           "behind, so every evening crossing costs double.")
    # The deleted comment is not stored, but its reply still points at it.
    assert (commuter.author_handle, commuter.parent_url) == ("pl_commuter",
                                                             f"{BASE}{P1}m0v1a03/")
    assert [r.url for r in requests] == [BASE + MORE]
    assert requests[0].cb_kwargs["thread"] == P1_THREAD
    assert requests[0].meta["thread_key"] == "t3_1h2k9vq"
    assert _stats(spider) == {"pages/posts_expected": 1, "posts/parsed": 3,
                              "comments/deleted": 1}


def test_more_children_are_a_flat_list_whose_parents_come_from_parent_id(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _split(list(spider.parse_more(_response(MORE), thread=P1_THREAD)))
    tip, reply = mentions
    assert (tip.url, tip.parent_url, tip.author_handle) == (
        f"{BASE}{P1}m0v1a05/", BASE + P1, "anna_gdansk")
    assert (reply.url, reply.parent_url, reply.author_handle, reply.text, reply.quotes,
            reply.published_at, reply.edited_at, reply.metadata) == (
        f"{BASE}{P1}m0v1a06/", f"{BASE}{P1}m0v1a05/", "kyiv_roamer", "On a night train? Sure 🙃",
        [{"author": None, "text": "switch off data before midnight"}],
        "2026-11-23T21:30:00+00:00", "2026-11-23T21:35:00+00:00",
        {"subreddit": "VolnaMobile", "edited": True})
    assert requests == []


def test_broken_comments_json_is_skipped_and_the_thread_looked_at_again(tmp_path):
    spider = _spider(tmp_path)
    spider.seen_threads["t3_1h2b1cx"] = {"comments": 1, "edited": False}
    thread = _thread(P4, "1h2b1cx", "Volna launches 5G in Kharkiv, Telenova promises Q1")
    output = list(spider.parse_comments(_response("/comments/1h2b1cx.json?raw_json=1"),
                                        thread=thread))
    assert output == []
    assert _stats(spider) == {"pages/posts_expected": 1, "skipped/bad_json": 1}
    assert "t3_1h2b1cx" not in spider.seen_threads


@pytest.mark.parametrize(("error", "reason"), [
    (lambda request: HttpError(TextResponse(request.url, status=503, request=request)),
     "http_error"),
    (lambda request: IgnoreRequest("Forbidden by robots.txt"), "ignored"),
    (lambda request: TimeoutError("took too long"), "request_failed"),
])
def test_a_failed_request_is_counted_and_its_thread_looked_at_again(tmp_path, error, reason):
    spider = _spider(tmp_path)
    spider.seen_threads["t3_1h2k9vq"] = {"comments": 6, "edited": False}
    request = spider.request(f"{BASE}/comments/1h2k9vq.json?raw_json=1", spider.parse_comments,
                             thread_key="t3_1h2k9vq", thread=P1_THREAD)
    failure = Failure(error(request))
    failure.request = request
    request.errback(failure)
    assert _stats(spider) == {f"skipped/{reason}": 1}
    assert spider.seen_threads == {}


def test_paging_stops_at_a_page_of_stored_posts_and_unchanged_threads_are_left(tmp_path):
    spider = _spider(tmp_path, store_enabled=True)
    first, _ = _split(list(spider.parse_listing(_response(NEW))))
    for mention in first:
        store.upsert_mention(spider.db, vars(mention))
    store.set_state(spider.db, "reddit", "threads", dict(spider.seen_threads))

    again = _spider(tmp_path, store_enabled=True)
    mentions, requests = _split(list(again.parse_listing(_response(NEW))))
    assert (mentions, requests) == ([], [])
    assert _stats(again) == {"pages/posts_expected": 1, "posts/parsed": 4,
                             "threads/unchanged": 4}

    later = _spider(tmp_path, store_enabled=True)
    mentions, requests = _split(list(later.parse_listing(_response(NEW, "later"))))
    # New posts and the one with a new comment; page 2 is read since page 1 had new posts.
    assert [m.thread_id for m in mentions] == ["1h2q7ab", "1h2p0xz", "1h2k9vq"]
    assert [r.url for r in requests] == [
        f"{BASE}/comments/1h2q7ab.json?raw_json=1", f"{BASE}/comments/1h2k9vq.json?raw_json=1",
        f"{BASE}{NEW}&after=t3_1h2hq3m"]


def test_posts_before_the_since_window_are_left_out_and_end_paging(tmp_path):
    spider = _spider(tmp_path)
    spider.since = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    mentions, requests = _split(list(spider.parse_listing(_response(NEW))))
    assert [m.thread_id for m in mentions] == ["1h2k9vq", "1h2hq3m", "1h2ew8d"]
    assert [r.url for r in requests] == [f"{BASE}/comments/1h2k9vq.json?raw_json=1",
                                         f"{BASE}/comments/1h2ew8d.json?raw_json=1"]


def test_a_post_found_by_two_listings_is_handled_once(tmp_path):
    spider = _spider(tmp_path)
    _split(list(spider.parse_listing(_response(NEW))))
    mentions, requests = _split(list(spider.parse_listing(_response(SEARCH))))
    assert [m.metadata["subreddit"] for m in mentions] == ["telecom", "ukraine"]
    assert [r.url for r in requests] == [f"{BASE}/comments/1h2m4tt.json?raw_json=1"]


def test_posts_without_required_fields_count_towards_layout_changed(tmp_path):
    spider = _spider(tmp_path)
    page = _response(NEW)
    data = json.loads(page.text)
    for child in data["data"]["children"]:
        child["data"]["created"] = child["data"].pop("created_utc")
    broken = page.replace(body=json.dumps(data).encode())
    assert list(spider.parse_listing(broken)) == []
    assert _stats(spider) == {"pages/posts_expected": 1, "skipped/bad_date": 4}
    for body in (b'{"kind": "Listing", "data": {}}', b"<html>rate limited</html>",
                 b'{"kind": "t3"}'):
        assert list(spider.parse_listing(page.replace(body=body))) == []
    assert _stats(spider) == {"pages/posts_expected": 4, "skipped/bad_date": 4,
                              "skipped/bad_json": 1, "skipped/bad_listing": 2}


def test_an_empty_listing_is_no_layout_change(tmp_path):
    spider = _spider(tmp_path)
    empty = _response(NEW).replace(
        body=b'{"kind": "Listing", "data": {"after": null, "children": []}}')
    assert list(spider.parse_listing(empty)) == []
    assert _stats(spider) == {}


def test_start_urls_for_subreddits_searches_and_restricted_searches(tmp_path):
    spider = _spider(tmp_path, {"subreddits": ["r/VolnaMobile", "telecom"],
                                "search": ["Volna mobile"]})
    assert spider.listing_urls() == [
        f"{BASE}{NEW}", f"{BASE}/r/telecom/new.json?limit=100&raw_json=1",
        f"{BASE}/search.json?q=Volna%20mobile&sort=new&limit=100&raw_json=1"]
    restricted = _spider(tmp_path, {"subreddits": ["VolnaMobile"], "search": ["Волна"],
                                    "restrict_sr": "true"})
    assert restricted.listing_urls() == [
        f"{BASE}/r/VolnaMobile/search.json?q=%D0%92%D0%BE%D0%BB%D0%BD%D0%B0&restrict_sr=1"
        "&sort=new&limit=100&raw_json=1"]


def test_comments_can_be_switched_off(tmp_path):
    spider = _spider(tmp_path, {"subreddits": ["VolnaMobile"], "comments": "false"})
    mentions, requests = _split(list(spider.parse_listing(_response(NEW))))
    assert len(mentions) == 4
    assert [r.url for r in requests] == [f"{BASE}{NEW}&after=t3_1h2b1cx"]


@pytest.mark.parametrize("options", [{}, {"subreddits": "VolnaMobile", "comments": "maybe"},
                                     {"search": [{"q": "volna"}]}])
def test_wrong_options_fail_before_crawling(tmp_path, options):
    with pytest.raises(ValueError, match="reddit"):
        _spider(tmp_path, options)


@pytest.mark.parametrize(("markdown", "own", "quotes"), [
    ("> a quote\nlazily continued\n\nmy words", "my words", ["a quote\nlazily continued"]),
    ("> outer\n>> inner\n\nreply", "reply", ["outer\n\ninner"]),
    ("```\n> not a quote\n```", "> not a quote", []),
    (">!spoiler!< here", "spoiler here", []),
    ("one\n\n> first\n\ntwo\n\n> second", "one\n\ntwo", ["first", "second"]),
    ("<b>raw</b> &#x200B; [link](https://x.example) ~~old~~ **new**",
     "<b>raw</b> link old new", []),
])
def test_markdown_quotes_are_split_from_the_authors_words(markdown, own, quotes):
    own_html, quote_html = split_markdown(markdown)
    assert html_to_text(own_html) == own
    assert [html_to_text(quote) for quote in quote_html] == quotes


# --- real crawls ----------------------------------------------------------------------------


def _row(db, url_end):
    row = db.execute(
        """SELECT m.kind, m.text, m.quotes, m.published_at, m.edited_at, a.handle,
                  a.profile_url, m.title, m.thread_id, m.parent_id, m.likes, m.replies,
                  m.metadata, m.version, m.id
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           WHERE m.url LIKE ?""", [f"%{url_end}"]).fetchone()
    assert row, f"{url_end} was not stored"
    keys = ("kind", "text", "quotes", "published_at", "edited_at", "author", "profile_url",
            "title", "thread", "parent_id", "likes", "replies", "metadata", "version", "id")
    return dict(zip(keys, row, strict=True))


def test_crawl_stores_posts_and_comment_trees(fixture_server, tmp_path):
    server = fixture_server(PAGES / "first")
    base = server.base_url
    sources = write_sources(tmp_path / "sources.yaml", _source(base))
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path)
    assert result.returncode == 0, result.stderr
    assert "reddit: 18 new, 0 edited, 0 unchanged, 1 skipped" in result.stdout

    with store.open_db(db_path) as db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM mentions GROUP BY kind").fetchall())
        assert kinds == {"post": 8, "comment": 10}
        post = _row(db, P1)
        assert (post["kind"], post["author"], post["profile_url"], post["published_at"],
                post["likes"], post["replies"], post["thread"]) == (
            "post", "kyiv_roamer", f"{base}/user/kyiv_roamer", "2026-11-23T18:40:00+00:00",
            42, 6, "1h2k9vq")
        assert json.loads(post["quotes"]) == [{
            "author": None,
            "text": 'The "Europe Day" package is charged once per calendar day of use.'}]
        reply = _row(db, f"{P1}m0v1a06/")
        assert (reply["kind"], reply["author"], reply["text"], json.loads(reply["metadata"]),
                reply["parent_id"]) == (
            "comment", "kyiv_roamer", "On a night train? Sure 🙃",
            {"subreddit": "VolnaMobile", "edited": True}, _row(db, f"{P1}m0v1a05/")["id"])
        assert json.loads(reply["quotes"]) == [{"author": None,
                                                "text": "switch off data before midnight"}]
        assert _row(db, f"{P1}m0v1a01/")["parent_id"] == post["id"]
        deleted = _row(db, "/телефон_не_ловит_сеть_в_метро_после_обновления/")
        assert deleted["author"] is None
        searched = _row(db, "/r/ukraine/comments/1h1zz01/volna_знову_підняла_ціни/")
        assert (searched["title"], searched["author"]) == ("Volna знову підняла ціни?", "oleh_kh")
        assert db.execute("SELECT count(*) FROM mentions WHERE url LIKE '%m0v1a03%'"
                          ).fetchone()[0] == 0
        (run,) = store.last_runs(db)
    assert run["status"] == "finished" and run["flags"] == []
    assert run["stats"]["otklik/skipped/bad_json"] == 1
    assert server.hits[NEW] == server.hits[SEARCH] == server.hits[MORE] == 1
    assert server.hits["/comments/1h2ew8d.json?raw_json=1"] == 1  # found twice, fetched once


def test_recrawl_adds_nothing_then_fetches_only_new_and_changed_threads(fixture_server, tmp_path):
    first, later = PAGES / "first", PAGES / "later"
    server = fixture_server(first)
    base = server.base_url
    sources = write_sources(tmp_path / "sources.yaml", _source(base))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path).returncode == 0

    server.hits.clear()
    again = run_crawl(sources, db_path)
    assert again.returncode == 0, again.stderr
    # Only the broken thread is looked at again (its post is re-sent, unchanged).
    assert "reddit: 0 new, 0 edited, 1 unchanged, 1 skipped" in again.stdout
    assert server.hits[NEW] == server.hits[SEARCH] == 1
    assert server.hits[f"{NEW}&after=t3_1h2b1cx"] == 0  # page 1 was all stored
    assert server.hits["/comments/1h2b1cx.json?raw_json=1"] == 1
    assert sum(n for path, n in server.hits.items() if path.startswith("/comments/")) == 1
    assert server.hits[MORE] == 0
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 18

    server.hits.clear()
    server.layers = [later, first]
    result = run_crawl(sources, db_path)
    assert result.returncode == 0, result.stderr
    assert "reddit: 4 new, 1 edited, 9 unchanged, 1 skipped" in result.stdout
    assert server.hits[NEW] == server.hits[f"{NEW}&after=t3_1h2hq3m"] == 1
    assert server.hits[f"{NEW}&after=t3_1h24m0e"] == 0  # page 2 was all stored
    assert server.hits[f"{NEW}&after=t3_1h2b1cx"] == 0
    fetched = sorted(path for path in server.hits if path.startswith("/comments/"))
    assert fetched == [f"/comments/{post_id}.json?raw_json=1"
                       for post_id in ("1h2b1cx", "1h2ew8d", "1h2k9vq", "1h2q7ab")]
    assert server.hits["/comments/1h27zpa.json?raw_json=1"] == 0
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 22
        edited = _row(db, P3)
        assert edited["version"] == 2 and edited["edited_at"] == "2026-11-24T03:00:00+00:00"
        assert edited["text"].endswith("UPD2: підтримка нарешті відповіла — перерахували за "
                                       "листопад.")
        refund = _row(db, f"{P1}m0v1a07/")
        assert (refund["author"], refund["parent_id"]) == (
            "volna_support", _row(db, f"{P1}m0v1a02/")["id"])
        assert _row(db, P1)["replies"] == 7
        new = _row(db, "/r/VolnaMobile/comments/1h2q7ab/volna_5g_in_kharkiv_first_speed_test/")
        assert new["text"] == ("Saltivka, 15:00: 410 Mbit/s down, 38 up. Telenova on the same "
                               "spot: 95 down.")
        (run,) = store.last_runs(db)
    assert run["flags"] == []
    assert run["stats"]["otklik/stored/inserted"] == 4


def test_changed_json_is_flagged_as_layout_changed(fixture_server, tmp_path):
    first, changed = PAGES / "first", tmp_path / "changed"
    shutil.copytree(first, changed)
    for page in (p for p in changed.rglob("*") if p.is_file()):
        page.write_text(page.read_text(encoding="utf-8").replace('"permalink"', '"link"'),
                        encoding="utf-8")
    server = fixture_server(first)
    sources = write_sources(tmp_path / "sources.yaml",
                            _source(server.base_url, {"subreddits": ["VolnaMobile"]}))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path, jobs=False).returncode == 0
    server.layers = [changed]
    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
    assert run["flags"] == ["layout changed"]
    assert run["stats"]["otklik/skipped/missing_fields"] == 4  # page 1 only: paging ends


def test_fixtures_are_json_except_the_broken_thread():
    broken = []
    for page in (p for p in PAGES.rglob("*") if p.is_file()):
        try:
            json.loads(page.read_text(encoding="utf-8"))
        except ValueError:
            broken.append(page.relative_to(PAGES).as_posix())
    assert broken == ["first/comments/1h2b1cx.json@raw_json=1"]
