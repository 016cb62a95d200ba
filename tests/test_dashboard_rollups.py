"""The dashboard's figures from the daily roll-ups equal a direct computation over every
brand row of a small store (``insights.mention_facts.brand_mentions``), before and after the
roll-ups are stored, and stay equal as the store changes: new posts, a re-tag, a correction,
an erasure; a refresh killed half-way leaves a consistent store."""

import random
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import BACKENDS, fresh_postgres_database, store_copy

import store
from dashboard import aggregates as agg
from dashboard import views
from dashboard.filters import Filters, day_of, default_filters
from dashboard.tables import question_rows
from insights import daily, queries, rollups
from insights.advocate_facts import author_stances
from insights.alerts import slices_of
from insights.mention_facts import brand_mentions
from insights.nps import classify, social_nps
from insights.questions import community_questions, thread_posts
from insights.report import brand_names
from insights.risk import customers_at_risk
from store.insights import replace_clusters
from store.rollups import stale_days
from store.schema import MIGRATIONS
from store.tags import HitRecord, Tag, write_mention_tags

END = datetime(2026, 11, 20, 20, tzinfo=UTC)
SOURCES = ("forum", "reviews", "telegram")
LANGUAGES = ("ru", "uk", "en", None)
STANCES = ("negative", "neutral", "positive", None)
PRODUCTS = {"volna": ("volna-mobile", "volna-home", "volna-app"),
            "telenova": ("telenova-mobile", "telenova-home")}
TOUCHPOINTS = ("billing", "support", "network", "onboarding", "churn")


def _post(db, rng, n: int, *, when: str, duplicate_of=None) -> str:
    """One tagged post with random brands, products, touchpoints, intents and stances."""
    source = rng.choice(SOURCES)
    url = f"https://{source}.example.com/t/{n % 40}#p{n}"
    store.upsert_mention(db, {
        "source": source, "url": url, "kind": "post", "text": f"post {n} " + "x" * 200,
        "thread_id": str(n % 40), "author_handle": f"user{rng.randint(0, 25)}",
        "published_at": when, "duplicate_of": duplicate_of})
    mention = store.mention_id(source, url)
    digest = db.execute("SELECT content_hash FROM mentions WHERE id = ?",
                        [mention]).fetchone()[0]
    tags = []
    if (language := rng.choice(LANGUAGES)) is not None:
        tags.append(Tag(mention, "language", language, 0.9, "lid", "t", digest))
    if (sentiment := rng.choice(STANCES)) is not None:
        tags.append(Tag(mention, "sentiment", sentiment, 0.9, "sentiment", "t", digest,
                        {"sentences": []}))
    write_mention_tags(db, mention, tags, _hits(rng), "t")
    return mention


def _hits(rng) -> list[HitRecord]:
    hits, at = [], list(range(0, 200, 10))
    rng.shuffle(at)  # stored in another order than they appear: text order must win
    brands = rng.choice([["volna"], ["telenova"], ["volna", "telenova"], []])
    for brand in brands:
        for _ in range(rng.choice([1, 1, 2])):
            if rng.random() < 0.5:
                hits.append(HitRecord("product", rng.choice(PRODUCTS[brand]),
                                      sentiment=rng.choice(STANCES), start=at.pop(),
                                      extra={"brand": brand}))
            else:
                hits.append(HitRecord("brand" if brand == "volna" else "competitor", brand,
                                      sentiment=rng.choice(STANCES), start=at.pop()))
    for _ in range(rng.choice([0, 1, 2, 3])):
        hits.append(HitRecord("touchpoint", rng.choice(TOUCHPOINTS),
                              sentiment=rng.choice(STANCES), start=at.pop()))
    roll = rng.random()
    if roll < 0.15:
        hits.append(HitRecord("intent", "question", start=at.pop()))
    elif roll < 0.3:
        hits.append(HitRecord("intent", "recommendation", start=at.pop()))
    elif roll < 0.4:
        hits.append(HitRecord("intent", "churn", start=at.pop(),
                              extra={"target": rng.choice(["telenova", "volna", None])}))
    return hits


def build_store(path, posts: int = 420, seed: int = 3) -> None:
    """About 70 days of random tagged posts, a few cross-posted copies, a few times with a
    +03:00 offset, human corrections, one complaint cluster."""
    rng = random.Random(seed)
    with store.open_db(path) as db:
        ids = []
        for n in range(posts):
            moment = END - timedelta(minutes=rng.randint(0, 70 * 24 * 60))
            when = moment.isoformat()
            if n % 37 == 0:  # 22:30 UTC written in Moscow time: the text shows the next day
                late = moment.replace(hour=22, minute=30, tzinfo=None) + timedelta(hours=3)
                when = late.isoformat() + "+03:00"
            duplicate = rng.choice(ids) if ids and n % 23 == 0 else None
            ids.append(_post(db, rng, n, when=when, duplicate_of=duplicate))
        for mention in rng.sample(ids, 15):
            store.add_correction(db, mention, "sentiment", rng.choice(STANCES[:3]))
        replace_clusters(db, [{"id": "c1", "label": "refunds", "terms": [], "size": 30,
                               "details": {}, "members": [(m, 0.1, False) for m in ids[:30]]}])


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    """The random store, built once per engine (on PostgreSQL as a template database)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("rollups") / "otklik.db"
        build_store(path)
        yield path
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_template")) as url:
        build_store(url)
        yield url


@pytest.fixture
def db(template, tmp_path):
    """A private copy of the random store."""
    with store_copy(template, tmp_path) as copy, store.open_db(copy) as database:
        yield database


@pytest.fixture(scope="module", params=["one own brand", "two own brands"])
def catalogue(request):
    """The shipped catalogue, and one where the competitor is an own brand too (posts
    naming both then count once among the chosen brands)."""
    from dashboard.data import read_catalogue

    shipped = read_catalogue()
    if request.param == "one own brand":
        return shipped
    return replace(shipped, brands=tuple(replace(b, own=True) for b in shipped.brands))


def filter_sets(db, catalogue) -> list[Filters]:
    base = default_filters(views_choices(db, catalogue))
    return [base, Filters(base.start, base.end, brand="telenova"),
            Filters(base.start, base.end, language="uk"),
            Filters(base.start, base.end, source="forum", brand="volna"),
            Filters(base.start - timedelta(days=20), base.end)]


def views_choices(db, catalogue):
    from dashboard.data import store_summary

    return store_summary(db, catalogue)["choices"]


# --- the direct computation: every brand row of the store, in Python -------------------

def rows_of(db, filters: Filters, *, brand: bool = True, previous: bool = True) -> list:
    first = (filters.previous[0] if previous else filters.start).isoformat()
    return [m for m in brand_mentions(db)
            if (day := day_of(m.published_at)) and first <= day <= filters.end.isoformat()
            and not m.duplicate and (not filters.source or m.source_id == filters.source)
            and (not filters.language or m.language == filters.language)
            and (not brand or not filters.brand or m.brand == filters.brand)]


def direct_overview(db, filters: Filters, catalogue) -> dict:
    chosen = views.chosen_brands(filters, catalogue)
    every = rows_of(db, filters, brand=False)
    mine = [m for m in every if m.brand in chosen
            and (not filters.brand or m.brand == filters.brand)]
    now = [m for m in mine if filters.contains(m.published_at)]
    before = [m for m in mine if filters.in_previous(m.published_at)]

    def share(rows, label):
        return agg.percent(sum(m.stance == label for m in rows), len(rows))

    def net(rows):
        return agg.percent(sum(m.stance == "positive" for m in rows)
                           - sum(m.stance == "negative" for m in rows), len(rows))

    def nps(rows):
        return social_nps([s for b in chosen for s in author_stances(rows, b)]).nps

    def voice(period):
        rows = [m for m in every if period(m.published_at)]
        total = sum(m.brand in views.brand_ids(catalogue) for m in rows)
        return agg.percent(sum(m.brand in chosen for m in rows), total)

    daily_counts = Counter((day_of(m.published_at), m.stance or "untagged") for m in now)
    return {
        "kpis": [(len({m.mention_id for m in now}), len({m.mention_id for m in before})),
                 (share(now, "negative"), share(before, "negative")),
                 (net(now), net(before)), (nps(now), nps(before)),
                 (voice(filters.contains), voice(filters.in_previous)) if every
                 else (None, None)],
        "daily": {(day, label): n for (day, label), n in daily_counts.items()},
    }


def direct_journey(db, filters: Filters, catalogue, product=None) -> dict:
    chosen = views.chosen_brands(filters, catalogue)
    rows = [m for m in rows_of(db, filters, previous=False) if m.brand in chosen
            and (not product or m.product == product)]
    cells: dict = defaultdict(dict)
    for m in rows:
        for touchpoint, stance in dict(m.touchpoints).items():
            posts = cells[(touchpoint, agg.week_of(day_of(m.published_at)))]
            posts[m.mention_id] = posts.get(m.mention_id, False) or stance == "negative"
    return {"cells": {key: (len(posts), sum(posts.values())) for key, posts in cells.items()},
            "posts": len({m.mention_id for m in rows})}


def direct_slices(db, filters: Filters, catalogue) -> dict:
    chosen = views.chosen_brands(filters, catalogue)
    table: dict = {}
    for m in rows_of(db, filters):
        if m.brand not in chosen:
            continue
        for piece, negative in slices_of(m):
            entry = table.setdefault(piece.key, [0, 0, 0])
            if filters.contains(m.published_at):
                entry[0] += 1
                entry[1] += negative
            else:
                entry[2] += negative
    return table


def direct_classes(db, filters: Filters, catalogue) -> list:
    rows = [m for m in rows_of(db, filters) if filters.contains(m.published_at)]
    return sorted((stance.author_id, brand, classify(stance), len(stance.sentiments))
                  for brand in views.chosen_brands(filters, catalogue)
                  for stance in author_stances(rows, brand))


def direct_browse(db, filters: Filters, product=None, touchpoint=None, sentiment=None):
    rows = [m for m in rows_of(db, filters, previous=False)
            if (not filters.brand or m.brand == filters.brand)
            and (not product or m.product == product)
            and (not touchpoint or touchpoint in dict(m.touchpoints))
            and (not sentiment or (m.sentiment or "untagged") == sentiment)]
    newest = sorted({m.mention_id: m for m in rows}.values(),
                    key=lambda m: m.published_at, reverse=True)
    return len(newest), [m.published_at for m in newest]


# --- what the pages compute, in the comparable shape --------------------------------------

def shown(db, filters: Filters, catalogue) -> dict:
    page = views.overview(db, filters, catalogue)
    journey = views.journey(db, filters, catalogue)
    trends = views.trends(db, filters, catalogue)
    return {
        "overview": {"kpis": [(k.value, k.previous) for k in page["kpis"]],
                     "daily": {(r["day"], r["sentiment"]): r["mentions"] for r in page["daily"]
                               if r["mentions"]}},
        "journey": {"cells": {(c["touchpoint"], c["week"]): (c["mentions"], c["negative"])
                              for c in journey["cells"] if c["week"]},
                    "posts": journey["posts"]},
        "slices": {r["slice"]: [r["mentions"], r["negative"], r["previous_negative"]]
                   for r in trends["table"]},
        "classes": sorted((r["author_id"], r["brand"], r["class"], r["posts"])
                          for r in views.advocates(db, filters, catalogue)["classes"]),
    }


def direct(db, filters: Filters, catalogue) -> dict:
    return {"overview": direct_overview(db, filters, catalogue),
            "journey": direct_journey(db, filters, catalogue),
            "slices": direct_slices(db, filters, catalogue),
            "classes": direct_classes(db, filters, catalogue)}


def assert_same(db, catalogue):
    for filters in filter_sets(db, catalogue):
        assert shown(db, filters, catalogue) == direct(db, filters, catalogue), filters


# --- tests ---------------------------------------------------------------------------------

def test_the_store_has_what_the_comparison_needs(db):
    rows = brand_mentions(db)
    assert len({m.mention_id for m in rows}) > 300
    assert any(m.duplicate for m in rows) and any(m.language is None for m in rows)
    assert any("+03:00" in m.published_at for m in rows)
    two = Counter(m.mention_id for m in rows)
    assert any(count == 2 for count in two.values())  # posts naming both brands


def test_figures_equal_the_direct_computation_before_and_after_storing(db, catalogue):
    assert len(stale_days(db)) > 60  # nothing stored yet: every day computed on the fly
    assert_same(db, catalogue)
    assert daily.refresh(db) > 60
    assert stale_days(db) == []
    assert_same(db, catalogue)


def test_journey_with_a_product_and_the_posts_of_a_cell(db, catalogue):
    daily.refresh(db)
    filters = filter_sets(db, catalogue)[4]
    page = views.journey(db, filters, catalogue, "volna-home")
    expected = direct_journey(db, filters, catalogue, "volna-home")
    assert {(c["touchpoint"], c["week"]): (c["mentions"], c["negative"])
            for c in page["cells"] if c["week"]} == expected["cells"]
    assert page["posts"] == expected["posts"]
    cell = max(page["cells"], key=lambda c: c["mentions"])
    posts = views.journey_posts(db, filters, catalogue, None, cell["touchpoint"], cell["week"])
    negative = [dict(m.touchpoints).get(cell["touchpoint"]) == "negative" for m in posts]
    assert negative == sorted(negative, reverse=True) and len(posts) <= 30
    assert len({m.mention_id for m in posts}) == min(
        30, direct_journey(db, filters, catalogue)["cells"][(cell["touchpoint"],
                                                             cell["week"])][0])


@pytest.mark.parametrize("choice", [{}, {"product": "volna-home"}, {"touchpoint": "billing"},
                                    {"sentiment": "negative", "touchpoint": "support"},
                                    {"sentiment": "positive"}])
def test_mentions_browse_total_and_newest_posts(db, catalogue, choice):
    daily.refresh(db)
    for filters in filter_sets(db, catalogue):
        page = views.mentions(db, filters, limit=8, **choice)
        total, newest = direct_browse(db, filters, **choice)
        assert page["total"] == total
        assert [post["published_at"] for post in page["posts"]] == newest[:8]
        assert all(post["brands"] and post["evidence"]["tags"] is not None
                   for post in page["posts"])


def test_at_risk_and_questions_equal_the_whole_store_computation(db, catalogue):
    for filters in filter_sets(db, catalogue):
        own = set(views.own_brand_ids(catalogue))
        expected = customers_at_risk(brand_mentions(db), own, filters.now, 30,
                                     queries.risk_statuses(db), queries.thread_authors(db))
        expected = [asdict(e) for e in expected
                    if (not filters.brand or e.brand == filters.brand)]
        queue = views.at_risk(db, filters, catalogue)
        if not filters.source:
            assert [{k: row[k] for k in expected[0]} for row in queue] == expected
        assert all(not filters.source or row["source"] == filters.source for row in queue)
        posts = thread_posts(db)
        asked = [asdict(q) for q in community_questions(posts, brand_names(catalogue))]
        sources = {post.mention_id: post.thread.split(":", 1)[0] for post in posts}
        assert views.questions(db, filters, catalogue) == question_rows(asked, filters,
                                                                        sources, 24.0)


def test_changes_mark_their_days_and_figures_follow(db, catalogue):
    daily.refresh(db)
    rng = random.Random(11)
    first = db.execute("SELECT id, published_at, author_id FROM mentions WHERE duplicate_of "
                       "IS NULL AND published_at LIKE '%+00:00' ORDER BY published_at DESC "
                       "LIMIT 1").fetchone()
    # a correction
    store.add_correction(db, first[0], "sentiment", "negative")
    assert stale_days(db) == [day_of(first[1])]
    assert_same(db, catalogue)
    # a re-tag with another sentiment (an upsert of the tag), brands and touchpoints
    digest = db.execute("SELECT content_hash FROM mentions WHERE id = ?", [first[0]]).fetchone()[0]
    write_mention_tags(db, first[0], [Tag(first[0], "sentiment", "positive", 0.7, "sentiment",
                                          "t2", digest)], _hits(rng), "t2")
    # new posts
    for n in range(5):
        _post(db, rng, 1000 + n, when=(END - timedelta(days=n * 9)).isoformat())
    assert len(stale_days(db)) >= 4
    assert_same(db, catalogue)
    # an erasure
    source, handle = db.execute("SELECT source_id, handle FROM authors WHERE id = ?",
                                [first[2]]).fetchone()
    store.erase_author(db, source, handle)
    assert_same(db, catalogue)
    daily.refresh(db)
    assert stale_days(db) == []
    assert_same(db, catalogue)


def test_a_refresh_killed_half_way_leaves_a_consistent_store(db, catalogue, monkeypatch):
    real = rollups.rollup_rows
    calls = []

    def dies_on_the_third_batch(mentions, days=None):
        calls.append(days)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(mentions, days)

    monkeypatch.setattr(daily, "rollup_rows", dies_on_the_third_batch)
    stale = stale_days(db)
    with pytest.raises(KeyboardInterrupt):
        daily.refresh(db, batch_days=7)
    left = stale_days(db)
    assert left == stale[14:]  # two batches stored, the third rolled back
    assert not db.conn.in_transaction
    assert db.execute("SELECT count(*) FROM brand_days WHERE day >= ?",
                      [left[0]]).fetchone()[0] == 0
    monkeypatch.undo()
    assert_same(db, catalogue)
    daily.refresh(db)
    assert_same(db, catalogue)


def test_cluster_days_follow_members_and_erasures(db):
    def expected():
        return dict(Counter(day_of(when) for (when,) in db.execute(
            "SELECT m.published_at FROM cluster_members c JOIN mentions m "
            "ON m.id = c.mention_id WHERE c.cluster_id = 'c1'")))

    assert dict(queries.cluster_days(db)["c1"]) == expected()
    member = db.execute("SELECT mention_id FROM cluster_members LIMIT 1").fetchone()[0]
    db.execute("UPDATE mentions SET published_at = '2026-01-02T10:00:00+00:00' WHERE id = ?",
               [member])  # a post whose time was read wrong, then corrected
    assert dict(queries.cluster_days(db)["c1"]) == expected()
    assert queries.cluster_days(db)["c1"]["2026-01-02"] == 1
    author = db.execute("SELECT m.author_id FROM cluster_members c JOIN mentions m "
                        "ON m.id = c.mention_id LIMIT 1").fetchone()[0]
    source, handle = db.execute("SELECT source_id, handle FROM authors WHERE id = ?",
                                [author]).fetchone()
    before = sum(expected().values())
    store.erase_author(db, source, handle)
    assert sum(expected().values()) < before
    assert dict(queries.cluster_days(db)["c1"]) == expected()
    replace_clusters(db, [])
    assert queries.cluster_days(db) == {}


def test_a_day_computed_live_is_read_in_one_snapshot(db):
    daily.refresh(db)
    with daily.window(db, "2026-11-01", "2026-11-20") as window:
        stored = window.totals("brand_days", ("brand",))
        assert window.stale == []
    store.add_correction(db, db.execute("SELECT id FROM mentions WHERE published_at >= "
                                        "'2026-11-10' LIMIT 1").fetchone()[0],
                         "sentiment", "positive")
    with daily.window(db, "2026-11-01", "2026-11-20") as window:
        assert len(window.stale) == 1
        assert sum(v[0] for v in window.totals("brand_days", ("brand",)).values()) == sum(
            v[0] for v in stored.values())
    with (pytest.raises(ValueError, match="no column 'colour'"),
          daily.window(db, "2026-11-01", "2026-11-20") as window):
        window.totals("brand_days", ("colour",))


def test_the_migration_marks_every_day_of_an_older_store_stale(tmp_path, make_mention):
    db = store.open_db(tmp_path / "old.db", migrate=False)
    MIGRATIONS.apply(db, stop_before="m009_rollups")
    store.upsert_mention(db, make_mention(published_at="2026-10-01T10:00:00+00:00"))
    store.upsert_mention(db, make_mention(url="https://forum.example.com/t/2",
                                          published_at="2026-10-03T23:30:00-02:00"))
    MIGRATIONS.apply(db)
    assert stale_days(db) == ["2026-10-01", "2026-10-04"]
    assert {"brand_days", "touchpoint_days", "author_days", "cluster_days"} <= set(
        db.table_names())
    db.close()


def test_otklik_analyze_stores_clusters_and_the_roll_ups(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from test_app import build_populated_db

    path = tmp_path / "otklik.db"
    build_populated_db(path)
    with store.open_db(path) as db:
        replace_clusters(db, [])
        assert stale_days(db)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "cli.py"), "analyze", "--db", str(path),
                             "--as-of", "2026-11-21T00:00:00+00:00"], capture_output=True,
                            text=True, timeout=600, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "daily figures of" in result.stderr
    with store.open_db(path) as db:
        assert stale_days(db) == []
        assert queries.complaint_clusters(db), "the clusters of the run are stored"
        assert db.execute("SELECT count(*) FROM brand_days").fetchone()[0] > 0


def test_a_refresh_inside_an_open_transaction_is_refused(db):
    db.execute("BEGIN")
    with pytest.raises(store.StoreError, match="transactions of their own"):
        daily.refresh(db)
    db.execute("ROLLBACK")
    assert daily.refresh(db) > 0


def test_roll_ups_stored_before_the_customers_only_rule_are_built_again(db):
    from store.schema import m011_customer_rollups

    daily.refresh(db)
    stored = {row[0] for row in db.execute("SELECT DISTINCT day FROM author_days")}
    with db.atomic():
        m011_customer_rollups(db)
    assert stored and set(stale_days(db)) == stored
    daily.refresh(db)
    assert stale_days(db) == []


def test_weekly_nps_equals_the_direct_computation(db, catalogue):
    from insights.nps import nps_over_time

    for stored in (False, True):
        if stored:
            daily.refresh(db)
        for filters in filter_sets(db, catalogue):
            chosen = views.chosen_brands(filters, catalogue)
            rows = [m for m in rows_of(db, filters, previous=False) if m.brand in chosen]
            direct = [{"brand": p.brand, "period": p.period, "nps": p.result.nps,
                       "promoters": p.result.promoters, "passives": p.result.passives,
                       "detractors": p.result.detractors}
                      for p in nps_over_time(rows, "week") if p.product is None]
            shown = views.overview(db, filters, catalogue)["nps_weekly"]
            assert direct and shown == direct, filters
