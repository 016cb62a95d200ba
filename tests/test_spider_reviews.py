"""Review pages with schema.org markup: JSON-LD and microdata, paging, re-crawls."""

import json
from pathlib import Path

import pytest
from conftest import run_crawl, write_sources
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.spiders.reviews import (
    Review,
    ReviewsSpider,
    extract_reviews,
    review_hash,
    review_permalink,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reviews"
BASE = "http://otzyvy.test"
SINCE = 20000  # days


def html(name: str, layer: str = "first") -> str:
    path = FIXTURES / layer / "otzyvy" / name
    return path.read_text(encoding="utf-8").replace("{{BASE}}", BASE)


def url_of(name: str) -> str:
    return f"{BASE}/otzyvy/{name.replace('@', '?')}"


def make_spider(tmp_path, store_on=False, **options):
    source = {"id": "otzyvy", "kind": "reviews", "url": f"{BASE}/otzyvy/", "since_days": SINCE,
              "options": {"pages": ["volna-home.html", "moya-volna.html"], **options}}
    sources = write_sources(tmp_path / "sources.yaml", source)
    settings = {"OTKLIK_SOURCES": str(sources), "OTKLIK_STORE_ENABLED": store_on,
                "OTKLIK_DB": str(tmp_path / "spider.db")}
    spider = ReviewsSpider.from_crawler(get_crawler(ReviewsSpider, settings), source="otzyvy")
    return spider


def response(name: str, product: str, layer: str = "first") -> HtmlResponse:
    request = Request(url_of(name), cb_kwargs={"product_url": url_of(product)})
    return HtmlResponse(url=url_of(name), body=html(name, layer).encode("utf-8"),
                        encoding="utf-8", request=request)


def stats(spider) -> dict:
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


def crawl_page(spider, name, product, layer="first"):
    page = response(name, product, layer)
    return list(spider.parse_page(page, **page.request.cb_kwargs))


# --- extraction ----------------------------------------------------------------------------

def test_json_ld_graph_with_references_and_aggregate_rating():
    page = extract_reviews(html("volna-home.html"), url_of("volna-home.html"))
    assert (page.product, page.markup, page.problems) == ("Volna Home", "json-ld", [])
    assert page.aggregate == {"value": 2.6, "best": 5.0, "count": 7}
    first, second, third = page.reviews
    assert first == Review(
        author="Марина К.", author_url=f"{BASE}/otzyvy/users/marina-k",
        published="2026-11-01T00:00:00+00:00", name="Скорость упала после повышения цены",
        body_text="Подключена к Volna Home третий год. После ноябрьского повышения цены скорость "
                  "вечером падает до 20 Мбит/с вместо обещанных 100.",
        rating=2.0, best=5.0, worst=1.0, url=f"{BASE}/otzyvy/review/1001")
    assert (second.author, second.published, second.rating, second.best) == (
        "Dmitry_NSK", "2026-10-30T18:15:00+00:00", 4.0, 5.0)
    assert second.body_text.splitlines()[1].startswith("Иногда пропадает интернет")
    assert (third.author, third.name, third.url) == ("Олег", None, None)


def test_json_ld_single_product_and_top_level_list():
    second = extract_reviews(html("volna-home.html@page=2"), url_of("volna-home.html@page=2"))
    assert [r.author for r in second.reviews] == ["Анна", "John B.", "Світлана"]
    assert second.reviews[0].best is None  # no bestRating: the spider assumes 5
    assert (second.reviews[1].rating, second.reviews[1].language) == (4.5, "en")
    third = extract_reviews(html("volna-home.html@page=3"), url_of("volna-home.html@page=3"))
    # the site's own Organization rating is not the product's
    assert (third.product, third.aggregate) == ("Volna Home", {"value": 2.6, "best": 5.0,
                                                               "count": 7})
    assert [r.name for r in third.reviews] == ["Ушёл к Теленове"]


def test_json_ld_single_review_object_standalone_reviews_and_a_bad_date():
    page = extract_reviews(html("telenova-fiber.html"), url_of("telenova-fiber.html"))
    assert (page.product, page.aggregate) == ("Telenova Fiber", {"value": 4.0, "count": 3})
    gamer, ludmila = page.reviews
    assert (gamer.author, gamer.author_url) == (None, f"{BASE}/otzyvy/users/kyiv_gamer")
    assert (ludmila.name, ludmila.url) == ("Дорого, но стабильно",
                                           f"{BASE}/otzyvy/telenova-fiber.html#review-77")
    assert page.problems == [("bad_date", "not an ISO date: 'вчера'")]


def test_microdata_reviews_with_nested_person_rating_and_aggregate():
    page = extract_reviews(html("moya-volna.html"), url_of("moya-volna.html"))
    assert (page.product, page.markup, page.aggregate) == (
        "My Volna", "microdata", {"value": 5.8, "best": 10.0, "count": 5})
    oksana, taras, iryna = page.reviews
    assert (oksana.author, oksana.author_url, oksana.published) == (
        "Оксана К.", f"{BASE}/otzyvy/users/oksana_k", "2026-10-21T16:05:00+00:00")
    assert (oksana.rating, oksana.best, oksana.worst, oksana.name) == (
        3.0, 10.0, 1.0, "Застосунок вилітає після оновлення")
    assert oksana.plain_body == ("Після оновлення «Моя Волна» закривається одразу після входу.\n"
                                 "Баланс доводиться дивитися на сайті. Виправте, будь ласка!")
    assert oksana.body_html.startswith("<p>Після оновлення")
    assert (taras.rating, taras.best, taras.published) == (9.0, 10.0, "2026-10-18T00:00:00+00:00")
    assert (iryna.author, iryna.rating, iryna.name) == ("Ірина", 6.0, None)


def test_bad_json_ld_is_reported_and_microdata_still_read():
    page = extract_reviews(html("moya-volna.html@page=2"), url_of("moya-volna.html@page=2"))
    assert [problem[0] for problem in page.problems] == ["bad_json"]
    assert [r.author for r in page.reviews] == ["Богдан", "Olha"]


def test_a_page_without_review_markup():
    page = extract_reviews(html("volna-home.html", "changed"), url_of("volna-home.html"))
    assert (page.reviews, page.markup, page.aggregate) == ([], None, {})


@pytest.mark.parametrize("ld", [
    '{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Салон Волна",'
    ' "review": [{"@type": "Review", "author": {"@type": "Person", "name": "A"},'
    ' "datePublished": "2026-10-01", "description": "Хороший салон связи",'
    ' "reviewRating": {"@type": "Rating", "ratingValue": "4,5", "bestRating": "5"}}]}',
    '[{"@context": "https://schema.org", "@type": ["Product", "Service"], "name": "Салон Волна",'
    ' "reviews": {"@type": "UserReview", "author": [{"@type": "Person", "name": "A"}],'
    ' "datePublished": "2026-10-01", "reviewBody": "Хороший салон связи",'
    ' "reviewRating": {"@type": "Rating", "ratingValue": 4.5}}}]',
])
def test_json_ld_variants(ld):
    page = extract_reviews(f'<html><head><script type="application/ld+json">{ld}</script></head>'
                           f'<body></body></html>', f"{BASE}/shop")
    (review,) = page.reviews
    assert (page.product, review.author, review.rating, review.plain_body) == (
        "Салон Волна", "A", 4.5, "Хороший салон связи")


def test_an_odd_review_is_a_problem_not_a_crash():
    ld = ('[{"@type": "Review", "url": "http://[bad/", "reviewBody": "x", "reviewRating": 1},'
          ' {"@type": "Review", "author": "B", "reviewBody": "Норм", "reviewRating": "5 из 5",'
          '  "itemReviewed": {"@type": "Product", "name": "Volna Smart",'
          '   "aggregateRating": {"ratingValue": "4.1", "ratingCount": "12"}}}]')
    page = extract_reviews(f'<script type="application/ld+json">{ld}</script>', f"{BASE}/p")
    assert [problem[0] for problem in page.problems] == ["bad_review"]
    (review,) = page.reviews
    assert (page.product, page.aggregate, review.author, review.rating) == (
        "Volna Smart", {"value": 4.1, "count": 12}, "B", 5.0)


def test_standalone_microdata_review_with_item_reviewed():
    html_page = """<div itemscope itemtype="https://schema.org/Review">
      <div itemprop="itemReviewed" itemscope itemtype="https://schema.org/Product">
        <span itemprop="name">Telenova Go</span></div>
      <a itemprop="author" href="/u/olga">Ольга</a>
      <time itemprop="datePublished" datetime="2026-10-03">3 октября</time>
      <meta itemprop="reviewBody" content="Тариф &lt;норм&gt;">
      <span itemprop="reviewRating">4</span></div>"""
    page = extract_reviews(html_page, f"{BASE}/t")
    (review,) = page.reviews
    assert page.product == "Telenova Go"
    assert (review.author, review.author_url, review.rating, review.plain_body) == (
        "Ольга", f"{BASE}/u/olga", 4.0, "Тариф <норм>")


def test_permalinks_own_url_or_a_stable_hash():
    product = f"{BASE}/otzyvy/volna-home.html"
    own = Review(author="A", url=f"{BASE}/otzyvy/review/7")
    assert review_permalink(own, product) == f"{BASE}/otzyvy/review/7"
    page_url = Review(author="A", published="2026-10-01T00:00:00+00:00", body_text="Текст",
                      url=product)  # the page itself names no single review
    hashed = review_permalink(page_url, product, f"{product}?page=2")
    assert hashed == f"{product}#review-{review_hash(page_url)}"
    assert len(review_hash(page_url)) == 12
    # the same review moved to page 2 keeps its permalink; whitespace does not matter
    moved = Review(author=" A ", published="2026-10-01T00:00:00+00:00", body_text="Текст\n ",
                   url=f"{product}?page=2")
    assert review_permalink(moved, product, f"{product}?page=2") == hashed
    # only the first 80 characters of the body count
    long_body = "Очень длинный отзыв про скорость интернета и про поддержку оператора связи. " * 2
    a = Review(author="A", published="2026-10-01", body_text=long_body)
    b = Review(author="A", published="2026-10-01", body_text=long_body + " Дополнение.")
    assert review_hash(a) == review_hash(b)


# --- the spider's callbacks ----------------------------------------------------------------

def test_page_yields_review_mentions_and_the_next_page(tmp_path):
    spider = make_spider(tmp_path)
    output = crawl_page(spider, "volna-home.html", "volna-home.html")
    *mentions, next_page = output
    assert next_page.url == f"{BASE}/otzyvy/volna-home.html?page=2"
    assert next_page.cb_kwargs == {"product_url": f"{BASE}/otzyvy/volna-home.html"}
    first, second, third = mentions
    assert first.url == f"{BASE}/otzyvy/review/1001"
    assert (first.kind, first.title, first.rating, first.rating_max) == (
        "review", "Скорость упала после повышения цены", 2.0, 5.0)
    assert first.thread_id == f"{BASE}/otzyvy/volna-home.html"
    assert (first.author_handle, first.author_name, first.author_url) == (
        "Марина К.", "Марина К.", f"{BASE}/otzyvy/users/marina-k")
    assert first.published_at == "2026-11-01T00:00:00+00:00"
    assert first.metadata == {"product": "Volna Home", "aggregate_rating": 2.6,
                              "aggregate_best": 5.0, "review_count": 7, "rating_min": 1.0,
                              "markup": "json-ld"}
    assert second.url.startswith(f"{BASE}/otzyvy/volna-home.html#review-")
    assert third.title == "Volna Home"  # a review without a name: the product's
    assert stats(spider) == {"pages/posts_expected": 1, "posts/parsed": 3}


def test_microdata_page_follows_rel_next_nofollow_and_keeps_the_body_html(tmp_path):
    spider = make_spider(tmp_path)
    *mentions, next_page = crawl_page(spider, "moya-volna.html", "moya-volna.html")
    assert next_page.url == f"{BASE}/otzyvy/moya-volna.html?page=2"
    assert [(m.author_handle, m.rating, m.rating_max) for m in mentions] == [
        ("Оксана К.", 3.0, 10.0), ("Taras", 9.0, 10.0), ("Ірина", 6.0, 10.0)]
    assert mentions[0].body_html.startswith("<p>Після оновлення «Моя Волна»")
    last = crawl_page(spider, "moya-volna.html@page=2", "moya-volna.html")
    assert [m.author_handle for m in last] == ["Богдан", "Olha"]  # no next page
    assert all(m.url.startswith(f"{BASE}/otzyvy/moya-volna.html#review-") for m in last)
    assert stats(spider)["skipped/bad_json"] == 1


def test_author_given_only_by_profile_url_and_skipped_bad_date(tmp_path):
    spider = make_spider(tmp_path)
    gamer, ludmila = crawl_page(spider, "telenova-fiber.html", "telenova-fiber.html")
    assert (gamer.author_handle, gamer.author_name) == ("kyiv_gamer", None)
    assert gamer.url.startswith(f"{BASE}/otzyvy/telenova-fiber.html#review-")
    assert ludmila.url == f"{BASE}/otzyvy/telenova-fiber.html#review-77"
    assert stats(spider)["skipped/bad_date"] == 1


def test_custom_next_selector(tmp_path):
    spider = make_spider(tmp_path, next="nav.pager a[rel=prev]::attr(href)")
    output = crawl_page(spider, "volna-home.html@page=3", "volna-home.html")
    assert output[-1].url == f"{BASE}/otzyvy/volna-home.html?page=2"


def test_paging_stops_at_a_page_of_stored_reviews(tmp_path):
    spider = make_spider(tmp_path, store_on=True)
    with store.open_db(tmp_path / "spider.db") as db:
        for mention in crawl_page(spider, "volna-home.html@page=2", "volna-home.html")[:-1]:
            store.upsert_mention(db, {**mention.__dict__, "text": "stored"})
    fresh = make_spider(tmp_path, store_on=True)
    output = crawl_page(fresh, "volna-home.html@page=2", "volna-home.html")
    assert len(output) == 3 and all(m.kind == "review" for m in output)  # re-read, not followed
    assert stats(fresh)["pages/only_stored"] == 1


def test_no_review_data_counts_for_the_layout_flag(tmp_path):
    spider = make_spider(tmp_path)
    assert crawl_page(spider, "volna-home.html", "volna-home.html", "changed") == []
    assert stats(spider) == {"pages/posts_expected": 1, "pages/no_reviews": 1}


def test_too_old_reviews_stop_paging(tmp_path):
    spider = make_spider(tmp_path)
    spider.since = spider.since.replace(year=2026, month=10, day=30, hour=12)
    output = crawl_page(spider, "volna-home.html", "volna-home.html")
    assert [m.author_handle for m in output] == ["Марина К.", "Dmitry_NSK"]  # no next page
    assert stats(spider)["reviews/too_old"] == 1


# --- a real crawl --------------------------------------------------------------------------

def _rows(db) -> dict:
    rows = db.execute(
        """SELECT m.url, m.title, m.rating, m.rating_max, m.published_at, m.text, m.thread_id,
                  m.metadata, a.handle, m.version, m.kind
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id""").fetchall()
    keys = ("url", "title", "rating", "rating_max", "published_at", "text", "thread", "metadata",
            "author", "version", "kind")
    return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}


def test_crawl_reviews_then_recrawl_only_new_pages(fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "first")
    base = server.base_url
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "otzyvy", "kind": "reviews", "url": f"{base}/otzyvy/", "since_days": SINCE,
        "options": {"pages": ["volna-home.html", "moya-volna.html",
                              f"{base}/otzyvy/telenova-fiber.html"]}})
    db_path = tmp_path / "crawl.db"

    first = run_crawl(sources, db_path, jobs=False)
    assert first.returncode == 0, first.stderr
    assert "otzyvy: 14 new, 0 edited, 0 unchanged, 2 skipped" in first.stdout
    with store.open_db(db_path) as db:
        rows = _rows(db)
        (run,) = store.last_runs(db)
    home = f"{base}/otzyvy/volna-home.html"
    assert sum(row["thread"] == home for row in rows.values()) == 7
    assert sum(row["thread"] == f"{base}/otzyvy/moya-volna.html" for row in rows.values()) == 5
    assert {row["kind"] for row in rows.values()} == {"review"}
    marina = rows[f"{base}/otzyvy/review/1001"]
    assert (marina["author"], marina["rating"], marina["rating_max"], marina["published_at"]) == (
        "Марина К.", 2.0, 5.0, "2026-11-01T00:00:00+00:00")
    assert json.loads(marina["metadata"])["review_count"] == 7
    oksana = next(row for row in rows.values() if row["author"] == "Оксана К.")
    assert oksana["text"] == ("Після оновлення «Моя Волна» закривається одразу після входу.\n\n"
                              "Баланс доводиться дивитися на сайті. Виправте, будь ласка!")
    assert (oksana["rating"], oksana["rating_max"]) == (3.0, 10.0)
    assert run["stats"]["otklik/skipped/bad_json"] == 1
    assert run["stats"]["otklik/skipped/bad_date"] == 1
    assert run["flags"] == []

    second = run_crawl(sources, db_path, jobs=False)
    assert second.returncode == 0, second.stderr
    assert "otzyvy: 0 new, 0 edited, 8 unchanged" in second.stdout  # the first pages only
    assert server.hits["/otzyvy/volna-home.html?page=2"] == 1
    assert server.hits["/otzyvy/moya-volna.html?page=2"] == 1

    server.layers = [FIXTURES / "later", FIXTURES / "first"]
    third = run_crawl(sources, db_path, jobs=False)
    assert third.returncode == 0, third.stderr
    assert "otzyvy: 2 new, 1 edited" in third.stdout
    with store.open_db(db_path) as db:
        rows = _rows(db)
    assert len(rows) == 16
    edited = rows[f"{base}/otzyvy/review/1001"]
    assert edited["version"] == 2 and "UPD: после обращения в поддержку" in edited["text"]
    assert edited["rating"] == 3.0
    assert {row["author"] for row in rows.values() if row["published_at"] >= "2026-11-04"} == {
        "Ксения", "Павел"}
    # page 2 now holds only stored reviews: paging stops there, page 3 is not fetched again
    assert server.hits["/otzyvy/volna-home.html?page=2"] == 2
    assert server.hits["/otzyvy/volna-home.html?page=3"] == 1
    assert server.hits["/otzyvy/moya-volna.html?page=2"] == 1

    server.layers = [FIXTURES / "changed"]
    fourth = run_crawl(sources, db_path, jobs=False)
    assert fourth.returncode == 0, fourth.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
        assert store.count_mentions(db) == 16
    assert run["flags"] == ["layout changed"]
    assert run["stats"]["otklik/pages/no_reviews"] == 3


def test_a_review_page_answering_503_is_counted_as_skipped(fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "unavailable", FIXTURES / "first")
    base = server.base_url
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "otzyvy", "kind": "reviews", "url": f"{base}/otzyvy/", "since_days": SINCE,
        "options": {"pages": ["volna-home.html", "moya-volna.html"]}})
    db_path = tmp_path / "crawl.db"

    result = run_crawl(sources, db_path, jobs=False)
    assert result.returncode == 0, result.stderr
    assert "otzyvy: 7 new, 0 edited, 0 unchanged, 1 skipped" in result.stdout
    assert server.hits["/otzyvy/moya-volna.html"] >= 1
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
        assert store.count_mentions(db) == 7
    assert run["stats"]["otklik/skipped/http_error"] == 1
