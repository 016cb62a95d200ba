"""The Telegram spider: saved ``t.me/s/<channel>`` preview pages parsed, then real crawls."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

import store
from crawlers.items import Mention
from crawlers.pipelines import clean_mention
from crawlers.spiders.telegram import TelegramSpider, parse_count

PAGES = FIXTURES / "telegram"
BASE = "http://tg.test"
CHANNELS = ["volna_official", "svyaz_news_ua", "no_such_channel"]


def _source(base_url, channels=CHANNELS, **extra):
    return {"id": "tg", "kind": "telegram", "url": base_url, "since_days": 36500,
            "options": {"channels": list(channels)}, **extra}


def _spider(tmp_path, *, store_enabled=False, **source):
    sources = write_sources(tmp_path / "sources.yaml", _source(BASE, **source))
    crawler = get_crawler(TelegramSpider, {
        "OTKLIK_SOURCES": str(sources), "OTKLIK_DB": str(tmp_path / "unit.db"),
        "OTKLIK_STORE_ENABLED": store_enabled})
    return TelegramSpider.from_crawler(crawler, source="tg")


def _page(name: str, layer: str = "first") -> HtmlResponse:
    """A saved page as the spider would receive it from ``BASE``."""
    body = (PAGES / layer / "s" / name).read_text(encoding="utf-8").replace("{{BASE}}", BASE)
    url = f"{BASE}/s/{name.replace('@', '?')}"
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


def _run(spider, response, channel="volna_official", before=None):
    output = list(spider.parse_page(response, channel=channel, before=before))
    mentions = [clean_mention(item) for item in output if isinstance(item, Mention)]
    requests = [item for item in output if isinstance(item, Request)]
    return mentions, requests


def _stats(spider):
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


# --- parsing saved pages ------------------------------------------------------------------


def test_newest_page_gives_text_posts_with_authors_views_quotes_and_forwards(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _page("volna_official"))

    assert [m.url for m in mentions] == [f"{BASE}/volna_official/{n}" for n in (121, 124, 125, 126)]
    first, signed, forwarded, ukrainian = mentions
    assert first.text == ("Плановые работы 🔧 в Киеве:\n3 ноября с 01:00 до 04:00 возможны "
                          "перебои звонков в Оболонском районе.\n\nПриносим извинения!")
    assert (first.kind, first.thread_id, first.author_handle, first.author_name,
            first.author_url) == ("post", "volna_official", "volna_official",
                                  "Волна — мобильный оператор", f"{BASE}/volna_official")
    assert (first.published_at, first.views, first.metadata, first.quotes) == (
        "2026-11-02T07:15:00+00:00", 3400, {}, [])

    assert signed.author_handle == signed.author_name == "Ольга Смирнова"
    assert signed.author_url == f"{BASE}/volna_official"
    assert signed.metadata == {"channel": "volna_official", "edited": True,
                               "reply_to": f"{BASE}/volna_official/118"}
    assert signed.quotes == [{
        "author": "Волна — мобильный оператор",
        "text": "Сегодня с 02:00 до 05:00 в Харькове возможны перебои мобильного интернета: "
                "меняем оборудование…"}]
    assert signed.text.startswith("Работы в Харькове завершены")
    assert "Сегодня с 02:00" not in signed.text
    assert signed.views == 1200

    assert forwarded.metadata == {"forwarded_from": {
        "name": "Теленова Новости", "url": f"{BASE}/telenova_news/88"}}
    assert forwarded.author_handle == "volna_official"
    assert forwarded.views == 15_000_000
    assert forwarded.text == ("Telenova raises its prepaid prices by 12% from December 1. "
                              "Volna plans stay the same — no hidden fees.")

    assert ukrainian.text == ("Нові тарифи «Хвиля Безліміт» вже доступні 🎉\n"
                              "Перехід безкоштовний.")
    assert ukrainian.views == 842

    assert [r.url for r in requests] == [f"{BASE}/s/volna_official?before=121"]
    assert requests[0].cb_kwargs == {"channel": "volna_official", "before": 121}
    assert requests[0].dont_filter
    stats = _stats(spider)
    assert stats["skipped/service_message"] == 1
    assert stats["skipped/media_only"] == 1
    assert stats["pages/posts_expected"] == 1
    assert stats["posts/parsed"] == 4


def test_older_page_skips_a_bad_date_and_media_and_pages_back_again(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _page("volna_official@before=121"), before=121)
    assert [m.url.rsplit("/", 1)[1] for m in mentions] == ["115", "118", "119", "120"]
    assert mentions[2].author_handle == "Андрей Лысенко"
    assert mentions[2].metadata == {"channel": "volna_official"}
    assert mentions[3].text == "Happy Halloween 🎃 Double data on all Volna Go plans this weekend."
    assert [m.views for m in mentions] == [5100, 9200, 4400, 6000]
    assert [r.url for r in requests] == [f"{BASE}/s/volna_official?before=115"]
    stats = _stats(spider)
    assert stats["skipped/bad_date"] == 1
    assert stats["skipped/media_only"] == 1


def test_a_broken_page_is_skipped_and_ends_paging(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _page("volna_official@before=115"), before=115)
    assert mentions == [] and requests == []
    assert _stats(spider)["skipped/no_posts"] == 1


def test_first_page_of_a_channel_has_no_older_page(tmp_path):
    spider = _spider(tmp_path)
    mentions, requests = _run(spider, _page("svyaz_news_ua"), channel="svyaz_news_ua")
    assert requests == []
    assert [m.url for m in mentions] == [f"{BASE}/svyaz_news_ua/2", f"{BASE}/svyaz_news_ua/3"]
    review, forwarded = mentions
    assert review.author_handle == "Марія Ткаченко"
    assert review.text == ("Огляд тижня: Волна запустила 5G у Львові, а Теленова знову підняла "
                           "ціни на передплачені тарифи.\nЩо думаєте?")
    assert forwarded.author_name == "Зв'язок UA 📶"
    assert forwarded.metadata["forwarded_from"] == {
        "name": "Volna Business", "url": f"{BASE}/volna_business/17"}


@pytest.mark.parametrize(("link", "older"), [
    ('<a href="/s/volna_official?before=121" class="tme_messages_more" data-before="121"></a>'
     '<a href="/s/volna_official?after=126" class="tme_messages_more" data-after="126"></a>', 121),
    ('<a href="/s/volna_official?after=126" class="tme_messages_more" data-after="126"></a>'
     '<a href="/s/volna_official?before=119" class="tme_messages_more"></a>', 119),
    ('<a class="tme_messages_more js-messages_more"></a>', 121),  # the smallest id shown
    ('<a href="/s/volna_official?after=126" class="tme_messages_more" data-after="126"></a>',
     None),
    ("", None)])
def test_the_older_page_comes_from_the_more_link(tmp_path, link, older):
    spider = _spider(tmp_path)
    page = _page("volna_official")
    body = page.text.replace(
        '<a href="/s/volna_official?before=121" class="tme_messages_more js-messages_more" '
        'data-before="121"></a>', link)
    assert body != page.text
    _, requests = _run(spider, page.replace(body=body.encode()))
    assert [r.cb_kwargs["before"] for r in requests] == ([older] if older else [])


def test_paging_stops_at_a_page_of_stored_posts(tmp_path):
    spider = _spider(tmp_path, store_enabled=True)
    with store.open_db(tmp_path / "unit.db") as db:
        for number in (118, 119, 120, 121):
            store.upsert_mention(db, {"source": "tg", "kind": "post", "text": "stored",
                                      "url": f"{BASE}/volna_official/{number}"})
    mentions, requests = _run(spider, _page("volna_official@before=124", "later"), before=124)
    assert len(mentions) == 4  # re-read (the store keeps them unchanged) ...
    assert requests == []  # ... but nothing older is fetched
    assert _stats(spider)["pages/only_stored"] == 1


def test_after_an_unfinished_crawl_paging_goes_on_past_stored_posts(tmp_path):
    with store.open_db(tmp_path / "unit.db") as db:
        for number in (118, 119, 120, 121):
            store.upsert_mention(db, {"source": "tg", "kind": "post", "text": "stored",
                                      "url": f"{BASE}/volna_official/{number}"})
        store.start_run(db, "tg")  # killed: never finished
    spider = _spider(tmp_path, store_enabled=True)
    _, requests = _run(spider, _page("volna_official@before=124", "later"), before=124)
    assert [r.cb_kwargs["before"] for r in requests] == [118]
    assert "pages/only_stored" not in _stats(spider)
    spider.closed("finished")


def test_posts_before_the_since_window_are_left_out_and_end_paging(tmp_path):
    spider = _spider(tmp_path)
    spider.since = datetime(2026, 11, 5, tzinfo=UTC)
    mentions, requests = _run(spider, _page("volna_official"))
    assert [m.url.rsplit("/", 1)[1] for m in mentions] == ["125", "126"]
    assert requests == []
    assert _stats(spider)["posts/too_old"] == 4  # 121-124, the service message and photo too


@pytest.mark.parametrize(("shown", "count"), [
    ("842", 842), ("1.2K", 1200), ("3,4K", 3400), ("15M", 15_000_000), ("1.05M", 1_050_000),
    ("12 345", None), ("", None), (None, None), ("1,234", 1234), ("2B", 2_000_000_000)])
def test_view_counts(shown, count):
    assert parse_count(shown) == count


def test_start_requests_every_channel_and_skips_bad_names(tmp_path):
    spider = _spider(tmp_path, channels=["@volna_official", "bad name!", "svyaz_news_ua"])

    async def collect():
        return [request async for request in spider.start()]

    requests = asyncio.run(collect())
    assert [r.url for r in requests] == [f"{BASE}/s/volna_official", f"{BASE}/s/svyaz_news_ua"]
    assert _stats(spider)["skipped/bad_channel"] == 1


# --- real crawls --------------------------------------------------------------------------


def _rows(db):
    rows = db.execute(
        """SELECT m.url, m.text, m.quotes, m.published_at, m.views, m.metadata, m.thread_id,
                  m.version, a.handle, a.display_name, a.profile_url
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id ORDER BY m.url""")
    keys = ("url", "text", "quotes", "published_at", "views", "metadata", "thread", "version",
            "handle", "name", "profile")
    return {row[0].rsplit("/", 2)[-2] + "/" + row[0].rsplit("/", 1)[1]: dict(zip(keys, row,
                                                                                strict=True))
            for row in rows}


def test_crawl_then_recrawl_then_later_posts_and_an_edit(fixture_server, tmp_path):
    first, later = PAGES / "first", PAGES / "later"
    server = fixture_server(first)
    sources = write_sources(tmp_path / "sources.yaml", _source(server.base_url))
    db_path = tmp_path / "crawl.db"

    crawl = run_crawl(sources, db_path)
    assert crawl.returncode == 0, crawl.stderr
    assert "tg: 10 new, 0 edited, 0 unchanged, 7 skipped" in crawl.stdout
    base = server.base_url
    with store.open_db(db_path) as db:
        rows = _rows(db)
        assert sorted(rows) == sorted(
            [f"volna_official/{n}" for n in (115, 118, 119, 120, 121, 124, 125, 126)]
            + ["svyaz_news_ua/2", "svyaz_news_ua/3"])
        signed = rows["volna_official/124"]
        assert (signed["handle"], signed["name"], signed["profile"]) == (
            "Ольга Смирнова", "Ольга Смирнова", f"{base}/volna_official")
        assert json.loads(signed["quotes"]) == [{
            "author": "Волна — мобильный оператор",
            "text": "Сегодня с 02:00 до 05:00 в Харькове возможны перебои мобильного интернета:"
                    " меняем оборудование…"}]
        assert json.loads(signed["metadata"]) == {
            "channel": "volna_official", "edited": True, "reply_to": f"{base}/volna_official/118"}
        assert signed["published_at"] == "2026-11-04T16:20:00+00:00"
        assert signed["thread"] == "volna_official"
        forwarded = rows["volna_official/125"]
        assert json.loads(forwarded["metadata"])["forwarded_from"] == {
            "name": "Теленова Новости", "url": f"{base}/telenova_news/88"}
        assert (forwarded["handle"], forwarded["name"], forwarded["views"]) == (
            "volna_official", "Волна — мобильный оператор", 15_000_000)
        assert rows["volna_official/121"]["text"].startswith("Плановые работы 🔧 в Киеве:\n3")
        assert rows["svyaz_news_ua/2"]["handle"] == "Марія Ткаченко"
        (run,) = store.last_runs(db)
        stats = run["stats"]
        assert run["status"] == "finished" and run["flags"] == []
        assert stats["otklik/skipped/bad_date"] == 1
        assert stats["otklik/skipped/no_posts"] == 1  # the broken page
        assert stats["otklik/skipped/http_error"] == 1  # the channel that does not exist
        assert stats["otklik/skipped/service_message"] == 2
        assert stats["otklik/skipped/media_only"] == 2
    assert server.hits["/s/volna_official?before=115"] == 1

    again = run_crawl(sources, db_path)  # the job folder of the first crawl is still there
    assert again.returncode == 0, again.stderr
    assert "tg: 0 new, 0 edited, 6 unchanged" in again.stdout
    with store.open_db(db_path) as db:
        assert store.count_mentions(db) == 10
    assert server.hits["/s/volna_official"] == 2
    assert server.hits["/s/volna_official?before=121"] == 1  # the first page was all stored

    server.layers = [later, first]
    third = run_crawl(sources, db_path)
    assert third.returncode == 0, third.stderr
    assert "tg: 3 new, 1 edited, 8 unchanged" in third.stdout
    with store.open_db(db_path) as db:
        rows = _rows(db)
        assert len(rows) == 13
        edited = rows["volna_official/126"]
        assert edited["text"] == ("Нові тарифи «Хвиля Безліміт» вже доступні 🎉\n"
                                  "Перехід безкоштовний до 31 грудня.")
        assert (edited["version"], edited["views"]) == (2, 1900)
        assert json.loads(edited["metadata"]) == {"edited": True}
        reply = rows["volna_official/128"]
        assert json.loads(reply["quotes"])[0]["text"].startswith("Внимание: мошенники")
        assert rows["volna_official/129"]["published_at"] == "2026-11-20T19:30:00+00:00"
    assert server.hits["/s/volna_official?before=124"] == 1
    assert server.hits["/s/volna_official?before=121"] == 1  # not read again
    assert server.hits["/s/volna_official?before=118"] == 0


def test_markup_change_is_flagged(fixture_server, tmp_path):
    first = PAGES / "first"
    changed = tmp_path / "changed"
    for page in (first / "s").iterdir():
        target = changed / "s" / page.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.read_text(encoding="utf-8")
                          .replace("tgme_widget_message_text", "tgme_widget_message_body"),
                          encoding="utf-8")
    server = fixture_server(first)
    sources = write_sources(tmp_path / "sources.yaml",
                            _source(server.base_url, channels=["volna_official"]))
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path, jobs=False).returncode == 0
    server.layers = [changed]
    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
    assert run["flags"] == ["layout changed"]


def test_fixture_pages_are_utf8_html():
    for page in Path(PAGES).rglob("*"):
        if page.is_file():
            assert page.read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE html>")
