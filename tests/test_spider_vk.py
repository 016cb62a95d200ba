"""The VK spider: saved API answers parsed, then real crawls against a loopback "API"."""

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.items import Mention
from crawlers.spiders.vk import VkSpider, VkTokenMiddleware

ANSWERS = FIXTURES / "vk"
API = "http://vk.test/method"
SITE = "https://vk.com"
TOKEN = "vk1.a.SECRET-test-token-0042"
TOKEN_ENV = "OTKLIK_TEST_VK_TOKEN"
WALL = "wall.get@owner_id=-200100&count=3&offset={}&extended=1&v=5.199"
COMMENTS = ("wall.getComments@owner_id=-200100&post_id={}&count=3&offset=0&extended=1"
            "&need_likes=1&thread_items_count=10&v=5.199")
SEARCH = "newsfeed.search@q=Волна роуминг&count=3&extended=1{}&v=5.199"


def _source(api_url, **options):
    return {"id": "vk", "kind": "vk", "url": api_url, "since_days": 36500,
            "options": {"owners": [-200100, -300300], "search": ["Волна роуминг"],
                        "comments": True, "token_env": TOKEN_ENV, "page_size": 3,
                        "max_retries": 2, "retry_delay": 0.01, **options}}


def _spider(tmp_path, *, store_enabled=False, **options):
    sources = write_sources(tmp_path / "sources.yaml", _source(API, **options))
    crawler = get_crawler(VkSpider, {
        "OTKLIK_SOURCES": str(sources), "OTKLIK_DB": str(tmp_path / "unit.db"),
        "OTKLIK_STORE_ENABLED": store_enabled})
    return VkSpider.from_crawler(crawler, source="vk")


def _answer(spider, name: str, layer: str = "first", body: bytes | None = None):
    """A saved answer as the spider receives it, with the request that asked for it."""
    method, _, query = name.partition("@")
    url = f"{API}/{method}?{query}"
    if body is None:
        body = (ANSWERS / layer / "method" / name).read_bytes()
    request = Request(url, meta={"vk_method": method})
    return TextResponse(url=url, body=body, encoding="utf-8", request=request)


def _split(output):
    output = list(output)
    mentions = [item for item in output if isinstance(item, Mention)]
    requests = [item for item in output if isinstance(item, Request)]
    return mentions, requests


def _wall(spider, offset, layer="first"):
    response = _answer(spider, WALL.format(offset), layer)
    data, retry = spider.read_api(response)
    assert retry is None
    return _split(spider.wall_page(response, data, -200100, offset))


def _stats(spider):
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


def _unquoted(request):
    from urllib.parse import unquote
    return unquote(request.url)


# --- parsing saved answers ----------------------------------------------------------------


def test_wall_page_gives_posts_with_authors_counts_and_asks_for_changed_comments(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _wall(spider, 0)
    pinned, news, complaint = mentions
    assert [m.url for m in mentions] == [f"{SITE}/wall-200100_{n}" for n in (50, 131, 130)]
    assert (news.kind, news.thread_id, news.author_handle, news.author_name, news.author_url) == (
        "post", "-200100_131", "club200100", "Волна — мобильный оператор",
        f"{SITE}/volna_official")
    assert news.text.startswith("С 1 декабря — новый тариф «Волна Смарт»: 30 ГБ")
    assert (news.published_at, news.likes, news.replies, news.views) == (
        "2026-11-18T10:00:00+00:00", 45, 3, 5120)
    assert news.metadata == {"reposts": 3}
    assert pinned.metadata == {"pinned": True}
    assert (complaint.author_handle, complaint.author_name, complaint.author_url) == (
        "id1001", "Ирина Коваль", f"{SITE}/id1001")
    assert complaint.text.startswith("Третий день нет мобильного интернета в Днепре")

    assert [_unquoted(r) for r in requests] == [
        f"{API}/{COMMENTS.format(131).replace('@', '?')}",
        f"{API}/{WALL.format(3).replace('@', '?')}"]
    for request in requests:
        assert TOKEN not in request.url and "access_token" not in request.url
        assert "Authorization" not in request.headers
        assert request.dont_filter
    assert requests[0].meta["vk_method"] == "wall.getComments"
    assert requests[0].cb_kwargs == {"owner_id": -200100, "post_id": 131, "offset": 0,
                                     "comment_id": None}
    assert spider.seen_threads == {"-200100_50": 0, "-200100_131": 3, "-200100_130": 0}
    assert _stats(spider)["posts/parsed"] == 3


def test_reposts_become_quotes_edits_are_dated_and_media_posts_are_counted(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _wall(spider, 3)
    repost, edited = mentions
    assert repost.text == "Смотрите, что пишут конкуренты 😉"
    assert repost.quotes == [{"author": "Теленова", "text": "Теленова повышает цены на "
                                                            "предоплаченные тарифы с 1 декабря "
                                                            "на 12%."}]
    assert repost.metadata == {"repost_of": f"{SITE}/wall-300500_912", "reposts": 5}
    assert edited.text.startswith("Оновили застосунок «Моя Волна»")
    assert edited.edited_at == "2026-11-10T09:15:00+00:00"
    assert edited.metadata == {"edited": True}
    assert [r.cb_kwargs.get("post_id") for r in requests] == [128, 127, None]
    assert requests[-1].cb_kwargs == {"owner_id": -200100, "offset": 6}
    assert _stats(spider)["skipped/media_only"] == 1


def test_a_post_without_a_date_is_skipped_and_the_wall_ends(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _wall(spider, 6)
    assert mentions == [] and requests == []
    assert _stats(spider)["skipped/bad_post"] == 1


def test_comments_with_nested_replies(tmp_path):
    spider = _spider(tmp_path)
    response = _answer(spider, COMMENTS.format(131))
    data, _ = spider.read_api(response)
    mentions, requests = _split(spider.comments_page(response, data, -200100, 131, 0))
    assert requests == []
    question, answer, roaming = mentions
    post = f"{SITE}/wall-200100_131"
    assert (question.url, question.kind, question.parent_url, question.thread_id) == (
        f"{post}?reply=1401", "comment", post, "-200100_131")
    assert (question.author_handle, question.author_name, question.author_url) == (
        "id1002", "Сергей Бондаренко", f"{SITE}/id1002")
    assert (question.text, question.likes, question.replies, question.published_at) == (
        "А для старых абонентов цена изменится?", 4, 1, "2026-11-18T10:40:00+00:00")
    assert answer.url == f"{post}?reply=1402"
    assert answer.parent_url == f"{post}?reply=1401"
    assert answer.author_handle == "club200100"
    assert answer.text == ("Сергей, нет, ваш тариф останется прежним. Перейти на «Волна Смарт» "
                           "можно в приложении.")
    assert roaming.text == "Is roaming in Poland included? Telenova charges extra for the EU."
    assert roaming.parent_url == post


def test_long_threads_and_more_comments_are_fetched_by_further_calls(tmp_path):
    spider = _spider(tmp_path)
    reply = {"id": 9, "from_id": 5, "date": 1790000000, "text": "ok", "reply_to_comment": 8}
    top = {"id": 8, "from_id": 5, "date": 1790000000, "text": "first",
           "thread": {"count": 25, "items": [reply]}}
    data = {"count": 40, "current_level_count": 7, "items": [top, dict(top, id=10, thread={})],
            "profiles": [{"id": 5, "first_name": "Анна", "last_name": "Лис"}]}
    response = _answer(spider, COMMENTS.format(131), body=json.dumps({"response": data}).encode())
    mentions, requests = _split(spider.comments_page(response, data, -200100, 131, 0))
    assert [m.url.rsplit("=", 1)[1] for m in mentions] == ["8", "9", "10"]
    assert [(r.cb_kwargs["comment_id"], r.cb_kwargs["offset"]) for r in requests] == [
        (8, 0), (None, 2)]
    assert "comment_id=8" in requests[0].url and "thread_items_count" not in requests[0].url
    replies = {"count": 25, "items": [dict(reply, id=11, reply_to_comment=9),
                                      dict(reply, id=12, reply_to_comment=None)]}
    mentions, requests = _split(spider.comments_page(response, replies, -200100, 131, 0,
                                                     comment_id=8))
    assert [m.parent_url.rsplit("=", 1)[1] for m in mentions] == ["9", "8"]
    assert [(r.cb_kwargs["comment_id"], r.cb_kwargs["offset"]) for r in requests] == [(8, 2)]


def test_search_pages_follow_next_from(tmp_path):
    spider = _spider(tmp_path)
    response = _answer(spider, SEARCH.format(""))
    data, _ = spider.read_api(response)
    mentions, requests = _split(spider.search_page(response, data, "Волна роуминг"))
    assert [m.url for m in mentions] == [f"{SITE}/wall1004_77", f"{SITE}/wall-300500_913"]
    assert mentions[0].author_name == "Дмитрий Орлов"
    assert mentions[1].author_url == f"{SITE}/telenova"
    assert mentions[0].metadata == {"search_query": "Волна роуминг"}
    assert [_unquoted(r) for r in requests] == [
        f"{API}/{SEARCH.format('&start_from=2_-300500_913').replace('@', '?')}"]


def test_stored_pages_and_old_posts_end_paging(tmp_path):
    spider = _spider(tmp_path, store_enabled=True)
    with store.open_db(tmp_path / "unit.db") as db:
        for number in (131, 130):
            store.upsert_mention(db, {"source": "vk", "kind": "post", "text": "stored",
                                      "url": f"{SITE}/wall-200100_{number}"})
    mentions, requests = _wall(spider, 0)
    assert len(mentions) == 3
    assert [r.cb_kwargs.get("post_id") for r in requests] == [131]  # comments, no next page
    spider.closed("finished")

    spider = _spider(tmp_path)
    spider.since = datetime(2026, 11, 17, tzinfo=UTC)
    mentions, requests = _wall(spider, 0)
    assert [m.url.rsplit("_", 1)[1] for m in mentions] == ["131"]
    assert [r.cb_kwargs.get("post_id") for r in requests] == [131]
    assert _stats(spider)["posts/too_old"] == 2


def _error(spider, code, method="wall.get", meta=None):
    body = json.dumps({"error": {"error_code": code, "error_msg": f"message {code}"}}).encode()
    url = f"{API}/{method}?owner_id=1&v=5.199"
    request = Request(url, meta={"vk_method": method, **(meta or {})})
    return TextResponse(url=url, body=body, encoding="utf-8", request=request)


def test_error_6_is_retried_a_bounded_number_of_times(tmp_path):
    spider = _spider(tmp_path)
    data, retry = spider.read_api(_error(spider, 6))
    assert data is None and retry.meta["vk_retries"] == 1 and retry.dont_filter
    _, retry = spider.read_api(_error(spider, 6, meta={"vk_retries": 1}))
    assert retry.meta["vk_retries"] == 2
    assert spider.read_api(_error(spider, 6, meta={"vk_retries": 2})) == (None, None)
    assert _stats(spider)["skipped/too_many_requests"] == 1


@pytest.mark.parametrize("code", [9, 29])
def test_rate_limits_stop_that_method_for_the_crawl(tmp_path, code):
    spider = _spider(tmp_path)
    assert spider.read_api(_error(spider, code, "newsfeed.search")) == (None, None)
    assert not spider.allowed("newsfeed.search")
    assert spider.allowed("wall.get")
    assert _stats(spider)["skipped/rate_limited"] == 1


@pytest.mark.parametrize("code", [15, 18, 30])
def test_closed_walls_are_skipped(tmp_path, code):
    spider = _spider(tmp_path)
    assert spider.read_api(_error(spider, code)) == (None, None)
    assert _stats(spider)["skipped/access_denied"] == 1


def test_failed_authorisation_stops_the_crawl_naming_the_variable(tmp_path, caplog):
    spider = _spider(tmp_path)
    with caplog.at_level(logging.ERROR), pytest.raises(CloseSpider) as stop:
        spider.read_api(_error(spider, 5))
    assert stop.value.reason == "vk_authorization_failed"
    assert TOKEN_ENV in caplog.text


def test_bad_json_and_other_errors_are_skipped(tmp_path):
    spider = _spider(tmp_path)
    broken = _answer(spider, COMMENTS.format(128))
    assert spider.read_api(broken) == (None, None)
    assert spider.read_api(_error(spider, 100)) == (None, None)
    stats = _stats(spider)
    assert stats["skipped/bad_json"] == 1 and stats["skipped/api_error"] == 1


def test_a_failed_comments_page_is_looked_at_again_next_crawl(tmp_path):
    spider = _spider(tmp_path)
    spider.thread_changed("-200100_128", 2)
    response = _answer(spider, COMMENTS.format(128))
    request = response.request
    request.cb_kwargs.update(owner_id=-200100, post_id=128, offset=0, comment_id=None)

    async def drain():
        return [item async for item in spider.parse_comments(response, **request.cb_kwargs)]

    assert asyncio.run(drain()) == []
    assert "-200100_128" not in spider.seen_threads


def test_without_a_token_nothing_is_requested(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    spider = _spider(tmp_path)

    async def collect():
        return [request async for request in spider.start()]

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(collect()) == []
    assert TOKEN_ENV in caplog.text
    assert _stats(spider)["skipped/missing_token"] == 1


def test_start_asks_every_wall_and_query_and_skips_bad_owners(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    spider = _spider(tmp_path, owners=["-200100", "volna", "15"])

    async def collect():
        return [request async for request in spider.start()]

    requests = asyncio.run(collect())
    assert [r.cb_kwargs.get("owner_id", r.cb_kwargs.get("query")) for r in requests] == [
        -200100, 15, "Волна роуминг"]
    assert all(TOKEN not in r.url for r in requests)
    assert _stats(spider)["skipped/bad_owner"] == 1


def test_token_is_a_header_only_while_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    spider = _spider(tmp_path)
    spider.crawler.spider = spider
    middleware = VkTokenMiddleware.from_crawler(spider.crawler)
    request = spider.wall_request(-200100, 0)
    middleware.process_request(request)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}".encode()
    middleware.process_response(request, Response(request.url, request=request))
    assert "Authorization" not in request.headers
    for other in (Request("http://elsewhere.test/"),
                  Request("http://elsewhere.test/method/wall.get", meta={"vk_method": "wall.get"})):
        middleware.process_request(other)
        assert "Authorization" not in other.headers


# --- real crawls --------------------------------------------------------------------------


def _rows(db):
    rows = db.execute(
        """SELECT m.url, m.kind, m.text, m.quotes, m.published_at, m.edited_at, m.likes,
                  m.replies, m.views, m.metadata, m.thread_id, m.version, p.url,
                  a.handle, a.display_name, a.profile_url
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           LEFT JOIN mentions p ON p.id = m.parent_id""")
    keys = ("url", "kind", "text", "quotes", "published_at", "edited_at", "likes", "replies",
            "views", "metadata", "thread", "version", "parent", "handle", "name", "profile")
    return {row[0].removeprefix(f"{SITE}/"): dict(zip(keys, row, strict=True)) for row in rows}


def _record_authorization(server) -> list:
    """The ``Authorization`` header of every request the fixture server answers."""
    seen = []

    class Recording(server.RequestHandlerClass):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(self.headers.get("Authorization"))
            super().do_GET()

    server.RequestHandlerClass = Recording
    return seen


def _no_secret(result, db_path):
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    for path in db_path.parent.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_crawl_then_recrawl_then_later_posts_edits_and_comments(fixture_server, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    first, later = ANSWERS / "first", ANSWERS / "later"
    server = fixture_server(first)
    headers = _record_authorization(server)
    sources = write_sources(tmp_path / "sources.yaml", _source(f"{server.base_url}/method"))
    db_path = tmp_path / "data" / "crawl.db"
    db_path.parent.mkdir()

    crawl = run_crawl(sources, db_path)
    assert crawl.returncode == 0, crawl.stderr
    assert "vk: 11 new, 0 edited, 0 unchanged, 5 skipped" in crawl.stdout
    _no_secret(crawl, db_path)
    with store.open_db(db_path) as db:
        rows = _rows(db)
        assert sorted(rows) == sorted([
            "wall-200100_50", "wall-200100_131", "wall-200100_130", "wall-200100_128",
            "wall-200100_127", "wall-200100_131?reply=1401", "wall-200100_131?reply=1402",
            "wall-200100_131?reply=1403", "wall1004_77", "wall-300500_913", "wall1005_66"])
        answer = rows["wall-200100_131?reply=1402"]
        assert (answer["kind"], answer["parent"], answer["handle"], answer["name"],
                answer["profile"], answer["thread"]) == (
            "comment", f"{SITE}/wall-200100_131?reply=1401", "club200100",
            "Волна — мобильный оператор", f"{SITE}/volna_official", "-200100_131")
        assert answer["text"].startswith("Сергей, нет, ваш тариф останется прежним.")
        assert answer["published_at"] == "2026-11-18T11:05:00+00:00"
        question = rows["wall-200100_131?reply=1401"]
        assert (question["parent"], question["likes"], question["replies"]) == (
            f"{SITE}/wall-200100_131", 4, 1)
        repost = rows["wall-200100_128"]
        assert json.loads(repost["quotes"]) == [{
            "author": "Теленова",
            "text": "Теленова повышает цены на предоплаченные тарифы с 1 декабря на 12%."}]
        edited = rows["wall-200100_127"]  # (the store keeps edited_at only on an update)
        assert json.loads(edited["metadata"]) == {"edited": True}
        complaint = rows["wall-200100_130"]
        assert (complaint["handle"], complaint["name"], complaint["profile"]) == (
            "id1001", "Ирина Коваль", f"{SITE}/id1001")
        found = rows["wall1005_66"]
        assert found["text"] == ("Волна роумінг у Польщі працює чудово, інтернет швидкий, "
                                 "жодних доплат.")
        assert json.loads(found["metadata"]) == {"search_query": "Волна роуминг"}
        (run,) = store.last_runs(db)
        stats = run["stats"]
        assert run["status"] == "finished" and run["flags"] == []
        assert stats["otklik/skipped/access_denied"] == 1  # the closed wall -300300
        assert stats["otklik/skipped/bad_json"] == 1  # post 128's comments
        assert stats["otklik/skipped/too_many_requests"] == 1  # post 127's comments
        assert stats["otklik/skipped/bad_post"] == 1
        assert stats["otklik/skipped/media_only"] == 1
    assert server.hits[f"/method/{COMMENTS.format(127).replace('@', '?')}"] == 3
    assert not any("access_token" in path for path in server.hits)
    assert headers and set(headers) == {f"Bearer {TOKEN}"}  # every call, in the header only

    again = run_crawl(sources, db_path)
    assert again.returncode == 0, again.stderr
    assert "vk: 0 new, 0 edited, 5 unchanged" in again.stdout
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 11
    assert server.hits[f"/method/{WALL.format(0).replace('@', '?')}"] == 2
    assert server.hits[f"/method/{WALL.format(3).replace('@', '?')}"] == 1
    assert server.hits[f"/method/{COMMENTS.format(131).replace('@', '?')}"] == 1

    server.layers = [later, first]
    third = run_crawl(sources, db_path)
    assert third.returncode == 0, third.stderr
    assert "vk: 5 new, 1 edited, 8 unchanged" in third.stdout
    _no_secret(third, db_path)
    with store.open_db(db_path) as db:
        rows = _rows(db)
        assert len(rows) == 16
        changed = rows["wall-200100_131"]
        assert changed["text"].startswith("С 1 декабря — новый тариф «Волна Смарт»: 35 ГБ")
        assert (changed["version"], changed["edited_at"], changed["views"], changed["replies"]) \
            == (2, "2026-11-20T09:00:00+00:00", 8800, 4)
        thanks = rows["wall-200100_131?reply=1404"]
        assert (thanks["text"], thanks["parent"]) == (
            "Спасибо, перешёл!", f"{SITE}/wall-200100_131?reply=1402")
        assert rows["wall-200100_128?reply=1411"]["name"] == "Oksana Melnyk"
        assert rows["wall-200100_133"]["text"].startswith("Чому в Запоріжжі знову немає")
    assert server.hits[f"/method/{WALL.format(6).replace('@', '?')}"] == 1  # not read again
    assert server.hits[f"/method/{COMMENTS.format(131).replace('@', '?')}"] == 2
    assert server.hits[f"/method/{COMMENTS.format(128).replace('@', '?')}"] == 2
    assert server.hits[f"/method/{COMMENTS.format(127).replace('@', '?')}"] == 3


def test_refused_token_stops_the_crawl(fixture_server, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = fixture_server(ANSWERS / "auth_failed")
    sources = write_sources(tmp_path / "sources.yaml",
                            _source(f"{server.base_url}/method", owners=[-200100], search=[]))
    result = run_crawl(sources, tmp_path / "crawl.db", jobs=False)
    assert result.returncode == 1, result.stderr  # the crawl did not do its job: it says so
    assert "finished: vk_authorization_failed" in result.stdout
    assert f"environment variable {TOKEN_ENV}" in result.stderr
    _no_secret(result, tmp_path / "crawl.db")


def test_missing_token_sends_nothing(fixture_server, tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    server = fixture_server(ANSWERS / "first")
    sources = write_sources(tmp_path / "sources.yaml", _source(f"{server.base_url}/method"))
    result = run_crawl(sources, tmp_path / "crawl.db", jobs=False)
    assert result.returncode == 0, result.stderr
    assert f"set the environment variable {TOKEN_ENV}" in result.stderr
    assert sum(server.hits.values()) == 0
    with store.open_db(tmp_path / "crawl.db") as db:
        (run,) = store.last_runs(db)
    assert run["stats"]["otklik/skipped/missing_token"] == 1
