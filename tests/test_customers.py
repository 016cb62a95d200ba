"""Customers only: a Telegram channel, a news outlet, forum staff and the brand's official
accounts are never advocates, customers at risk or NPS voters, in ``otklik analyze``'s
path and the dashboard's alike; their posts still count as mentions."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

import store
from config.catalogue import OfficialAccount, load_catalogue
from dashboard import views
from dashboard.filters import Filters
from insights import queries, report
from insights.advocate_facts import advocate_facts
from insights.advocates import rank_advocates
from insights.customers import official_author_ids
from insights.mention_facts import brand_mentions
from insights.nps import nps_over_time
from store.tags import HitRecord, Tag, write_mention_tags

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 20, 23, tzinfo=UTC)


def _post(db, source, n, author, days_ago, stance, *, kind="post", thread=None,
          intents=(), metadata=None):
    url = f"https://{source}.example.com/p/{n}"
    store.upsert_mention(db, {
        "source": source, "url": url, "kind": kind, "text": f"Volna post {n}",
        "thread_id": thread or f"t{n}", "author_handle": author,
        "published_at": (NOW - timedelta(days=days_ago, hours=1)).isoformat(),
        "metadata": metadata or {}})
    mention = store.mention_id(source, url)
    digest = db.execute("SELECT content_hash FROM mentions WHERE id = ?", [mention]).fetchone()[0]
    hits = [HitRecord("brand", "volna", sentiment=stance, start=0),
            HitRecord("touchpoint", "billing", sentiment=stance, start=10)]
    hits += [HitRecord("intent", intent, start=20 + i) for i, intent in enumerate(intents)]
    write_mention_tags(db, mention, [Tag(mention, "sentiment", stance, 0.9, "s", "t", digest,
                                         {"sentences": []})], hits, "t")


@pytest.fixture
def catalogue():
    shipped = load_catalogue()
    volna = replace(shipped.brand("volna"),
                    official_accounts=(OfficialAccount("forum", "Volna_Help"),))
    return replace(shipped, brands=tuple(volna if b.id == "volna" else b
                                         for b in shipped.brands))


@pytest.fixture
def filled(db):
    store.upsert_source(db, "forum", "forum")
    store.upsert_source(db, "tg", "telegram")
    store.upsert_source(db, "news", "rss")
    store.upsert_source(db, "hub", "discourse")
    n = 0
    for week in range(8):  # a channel and an outlet glowing about the brand every week
        for source, author, kind in (("tg", "volna_digest", "post"),
                                     ("news", "svyaz_info", "article")):
            n += 1
            _post(db, source, n, author, 7 * week + 1, "positive", kind=kind,
                  intents=("recommendation",))
    for days_ago in (2, 9, 30):  # a real customer who recommends the brand
        n += 1
        _post(db, "forum", n, "anna", days_ago, "positive", intents=("recommendation",))
    # complaints: a customer, a forum staff post, an official account, a channel
    _post(db, "forum", 100, "boris", 3, "negative")
    _post(db, "hub", 101, "hub_team", 3, "negative", metadata={"staff": True})
    _post(db, "forum", 102, "Volna_Help", 4, "negative")
    _post(db, "tg", 103, "volna_digest", 4, "negative", intents=("churn",))
    return db


def test_channels_outlets_and_staff_are_not_advocates(filled):
    ranked = rank_advocates(advocate_facts(brand_mentions(filled), "volna"), NOW)
    profiles = queries.author_profiles(filled, [s.author_id for s in ranked])
    assert [profiles[s.author_id]["handle"] for s in ranked] == ["anna"]


def test_the_report_ranks_customers_only(filled, catalogue):
    anna = store.author_id("forum", "anna")
    assert [s.author_id for s in report.advocates(filled, catalogue, NOW)["volna"]] == [anna]


def test_staff_and_official_complaints_are_not_customers_at_risk(filled, catalogue):
    queue = report.at_risk(filled, catalogue, NOW)
    assert [row["handle"] for row in queue] == ["boris"]
    filters = Filters(date(2026, 10, 1), NOW.date())
    assert [row["handle"] for row in views.at_risk(filled, filters, catalogue)] == ["boris"]
    # the official account is one by the catalogue only
    plain = report.at_risk(filled, load_catalogue(), NOW)
    assert sorted(row["handle"] for row in plain) == ["Volna_Help", "boris"]


def test_nps_counts_customers_only_on_both_paths(filled, catalogue):
    nps = report.summary(filled, catalogue, NOW)["nps"]["volna"]
    assert (nps.promoters, nps.passives, nps.detractors) == (1, 0, 1)
    filters = Filters(date(2026, 9, 1), NOW.date(), brand="volna")
    classes = views.advocates(filled, filters, catalogue)["classes"]
    assert sorted((row["handle"], row["class"]) for row in classes) == [
        ("anna", "promoter"), ("boris", "detractor")]


def test_their_posts_still_count_as_mentions(filled, catalogue):
    rows = brand_mentions(filled)
    assert sum(not m.customer for m in rows) == 18  # 16 glowing, a staff and a channel post
    (volna,) = [v for v in report.summary(filled, catalogue, NOW)["voice"] if v.brand == "volna"]
    assert volna.mentions == 16  # 10 by the channel and the outlet, 2 by anna, 4 complaints


def test_official_author_ids_follow_the_catalogue(catalogue):
    assert official_author_ids(catalogue) == {store.author_id("forum", "volna_help")}
    assert len(official_author_ids(load_catalogue())) == 2  # the demo's two support accounts


def test_the_nps_trend_read_counts_customers_of_each_period(filled, catalogue):
    official = official_author_ids(catalogue)
    trend = queries.nps_trend(filled, "2026-10-01", "2026-11-20", "month", official)
    assert trend == nps_over_time(brand_mentions(filled), "month", official)
    months = {p.period: (p.result.promoters, p.result.passives, p.result.detractors)
              for p in trend if p.brand == "volna" and p.product is None}
    # October: anna's recommendation (Oct 21st); November: anna, and boris's complaint
    assert months == {"2026-10": (1, 0, 0), "2026-11": (1, 0, 1)}
    # a range that starts mid-month counts only its own days: anna's October post is out
    assert [p.period for p in queries.nps_trend(filled, "2026-10-25", "2026-11-20", "month")
            if p.brand == "volna"] == ["2026-11"]
