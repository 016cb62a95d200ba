"""Bad dates never move the dashboard: a post dated more than a day ahead or before 1990 is
stored without a date (counted, logged), old stores are healed by migration m013, and the
default period of the dashboard ends at the latest real post."""

import logging
import shutil
from datetime import UTC, date, datetime

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.utils.test import get_crawler

import store
from config.catalogue import DEFAULT_CATALOGUE, load_catalogue
from crawlers.dates import is_plausible
from crawlers.items import Mention
from crawlers.pipelines import CleanPipeline
from dashboard.data import store_summary
from dashboard.filters import default_filters
from insights import queries
from store.schema import MIGRATIONS

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("published", "plausible"), [
    ("2026-11-10T12:00:00+00:00", True),
    ("2026-11-11T11:59:59+00:00", True),  # a day of slack: time zones, skewed clocks
    ("2026-11-11T14:00:00+03:00", True),
    ("2026-11-11T12:00:01+00:00", False),
    ("2099-01-01T10:00:00+00:00", False),
    ("1990-01-01T00:00:00+00:00", True),
    ("1989-12-31T23:59:59+00:00", False),
    ("1970-01-01T00:00:00Z", False),  # a zero epoch timestamp
    ("2026-11-10T12:00:00", True),  # no offset: UTC
    ("not a date", False),
])
def test_dates_far_ahead_or_before_1990_are_implausible(published, plausible):
    assert is_plausible(published, now=NOW) is plausible


def test_the_clean_pipeline_stores_an_implausible_date_as_unknown(caplog):
    crawler = get_crawler()
    pipeline = CleanPipeline.from_crawler(crawler)
    future = Mention(source="forum", url="https://f.example/p/1", text="Волна опять списала",
                     published_at="2099-01-01T10:00:00+00:00")
    today = Mention(source="forum", url="https://f.example/p/2", text="Вчора все працювало",
                    published_at=datetime.now(UTC).isoformat(timespec="seconds"))
    with caplog.at_level(logging.WARNING):
        assert pipeline.process_item(future).published_at is None
        assert pipeline.process_item(today).published_at == today.published_at
    assert crawler.stats.get_value("otklik/dates/implausible") == 1
    assert "implausible date 2099-01-01T10:00:00+00:00 of https://f.example/p/1" in caplog.text


def _latest_day(db) -> date:
    return store_summary(db, load_catalogue(DEFAULT_CATALOGUE))["choices"].last_day


def test_a_post_dated_2099_is_stored_without_a_date_and_the_window_stays(
        fixture_server, tmp_path):
    site = tmp_path / "phpbb"
    shutil.copytree(FIXTURES / "phpbb" / "first", site)
    topic = site / "forum" / "viewtopic.php@t=690"
    page = topic.read_text(encoding="utf-8")
    shown = '<time datetime="2026-10-30T18:00:00+00:00">30 окт 2026, 21:00</time>'
    assert page.count(shown) == 1
    topic.write_text(page.replace(
        shown, '<time datetime="2099-01-01T09:00:00+00:00">1 янв 2099, 12:00</time>'),
        encoding="utf-8")
    server = fixture_server(site)
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "community", "kind": "forum", "url": f"{server.base_url}/forum/",
        "since_days": 36500, "options": {"engine": "phpbb", "boards": ["viewforum.php?f=3"],
                                         "timezone": "Europe/Moscow"}})
    db_path = tmp_path / "crawl.db"
    result = run_crawl(sources, db_path, jobs=False)
    assert result.returncode == 0, result.stderr
    assert "implausible date 2099-01-01T09:00:00+00:00" in result.stderr

    with store.open_db(db_path) as db:
        assert store.last_runs(db)[0]["stats"]["otklik/dates/implausible"] == 1
        dated = dict(db.execute("SELECT url, published_at FROM mentions"))
        (undated,) = [url for url, published in dated.items() if published is None]
        assert undated.endswith("p=6900#p6900")
        latest = max(published for published in dated.values() if published)
        assert latest < "2026-12"
        assert _latest_day(db) == date.fromisoformat(latest[:10])
        window = default_filters(store_summary(db, load_catalogue(DEFAULT_CATALOGUE))["choices"])
        assert window.end == date.fromisoformat(latest[:10])
        assert window.start.year == 2026


def test_one_future_row_does_not_move_the_default_window(db, make_mention):
    store.upsert_mention(db, make_mention(published_at="2026-10-01T10:00:00+00:00"))
    before = queries.filter_choices(db, now=NOW)
    store.upsert_mention(db, make_mention(url="https://forum.example.com/p/2",
                                          published_at="2099-01-01T10:00:00+00:00"))
    store.upsert_mention(db, make_mention(url="https://forum.example.com/p/3",
                                          published_at="1970-01-01T00:00:00+00:00"))
    after = queries.filter_choices(db, now=NOW)
    assert (after["first_published"], after["last_published"]) == (
        before["first_published"], before["last_published"]) == (
        "2026-10-01T10:00:00+00:00", "2026-10-01T10:00:00+00:00")
    # a post of tomorrow (time zones) still counts
    store.upsert_mention(db, make_mention(url="https://forum.example.com/p/4",
                                          published_at="2026-11-11T09:00:00+00:00"))
    assert queries.filter_choices(db, now=NOW)["last_published"] == "2026-11-11T09:00:00+00:00"
    assert _latest_day(db) == date(2026, 11, 11)


def test_migration_m013_heals_stored_implausible_dates(db_path, make_mention):
    db = store.open_db(db_path)
    dates = {"future": "2099-01-01T10:00:00+00:00", "epoch": "1970-01-01T00:00:00+00:00",
             "real": "2026-10-01T10:00:00+00:00", "none": None}
    for name, published in dates.items():
        store.upsert_mention(db, make_mention(url=f"https://forum.example.com/{name}",
                                              published_at=published))
    db.execute("DELETE FROM rollup_stale_days")
    # a store written before m013
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm013_implausible_dates'")
    db.conn.commit()
    db.close()
    with store.open_db(db_path) as healed:
        assert [m.name for m in MIGRATIONS.pending(healed)] == []
        stored = dict(healed.execute("SELECT url, published_at FROM mentions"))
        assert {url.rsplit("/", 1)[1]: published for url, published in stored.items()} == {
            "future": None, "epoch": None, "real": dates["real"], "none": None}
        # the days those posts left are built again by the next analysis
        stale = {day for (day,) in healed.execute("SELECT day FROM rollup_stale_days")}
        assert stale == {"2099-01-01", "1970-01-01"}
