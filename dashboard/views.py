"""Everything one page shows, computed in one call from the store and the loaded mentions,
so a page can cache it as a whole. Pure apart from the read queries it calls; no streamlit.
``bench/dashboard.py`` times these functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from sqlite_utils import Database

import store
from config.catalogue import Catalogue
from dashboard import aggregates as agg
from dashboard import data, tables
from dashboard.filters import Filters
from insights import queries
from insights.exports import export_rows
from insights.mention_facts import BrandMention
from insights.questions import community_questions, thread_posts
from insights.report import brand_names
from insights.risk import customers_at_risk

LanguageOf = Callable[[BrandMention], str | None]


def own_brand_ids(catalogue: Catalogue) -> list[str]:
    return [brand.id for brand in catalogue.own_brands]


def brand_ids(catalogue: Catalogue) -> list[str]:
    return [brand.id for brand in catalogue.brands]


def chosen_brands(filters: Filters, catalogue: Catalogue) -> list[str]:
    """The brand of the filters, or every own brand."""
    return [filters.brand] if filters.brand else own_brand_ids(catalogue)


def overview(db: Database, rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
             language_of: LanguageOf) -> dict:
    """KPIs with changes, daily volume by sentiment, open alerts, store totals."""
    every_brand = agg.apply_filters(rows, filters, language_of, brand=False)
    filtered = agg.scope(agg.apply_filters(every_brand, filters, language_of),
                         chosen_brands(filters, catalogue))
    alerts = [a for a in queries.open_alerts(db) if agg.alert_matches(a, filters)]
    return {
        "kpis": agg.overview_kpis(filtered, every_brand, filters, own_brand_ids(catalogue),
                                  brand_ids(catalogue)),
        "daily": agg.daily_sentiment(filtered, filters),
        "alerts": alerts,
        "tagged": agg.unique_mentions(rows),
    }


def journey(rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
            language_of: LanguageOf, product: str | None = None) -> dict:
    """Heatmap cells (touchpoint × week) of the chosen brand(s) and product, and where it
    hurts in the latest week."""
    chosen = agg.scope(agg.apply_filters(rows, filters, language_of, previous=False),
                       chosen_brands(filters, catalogue))
    if product:
        chosen = [m for m in chosen if m.product == product]
    cells = agg.journey_cells(chosen, [t.id for t in catalogue.touchpoints])
    return {"cells": cells, "hurting": agg.hurting(cells), "posts": agg.unique_mentions(chosen)}


def journey_posts(rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
                  language_of: LanguageOf, product: str | None, touchpoint: str,
                  week: str, limit: int = 30) -> list[BrandMention]:
    """The posts behind one heatmap cell."""
    chosen = agg.scope(agg.apply_filters(rows, filters, language_of, previous=False),
                       chosen_brands(filters, catalogue))
    if product:
        chosen = [m for m in chosen if m.product == product]
    return agg.cell_posts(chosen, touchpoint, week)[:limit]


def trends(db: Database, rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
           language_of: LanguageOf, top: int = 6) -> dict:
    """Slices by negatives (with change), daily negatives of the top slices with spikes
    marked from the alerts, and every alert of the filters (open ones with examples)."""
    chosen = agg.scope(agg.apply_filters(rows, filters, language_of),
                       chosen_brands(filters, catalogue))
    table = agg.slice_table(chosen, filters)
    everything = [a for a in queries.alerts(db) if agg.alert_matches(a, filters)]
    open_ones = [a for a in queries.open_alerts(db, limit=200) if agg.alert_matches(a, filters)]
    # the default series: slices of a product or touchpoint (the brand total is a choice)
    alerted = [row["slice"] for row in table
               if row["negative"] and not row["slice"].endswith("/*/*")][:top]
    return {"table": table, "top": alerted,
            "series": agg.negative_series(chosen, filters, alerted),
            "spikes": agg.spike_marks(everything, [row["slice"] for row in table], filters),
            "open_alerts": open_ones, "all_alerts": everything}


def example_posts(rows: list[BrandMention], ids: list[str]) -> list[BrandMention]:
    """The loaded posts with the given ids, in that order (missing ones left out)."""
    index = {m.mention_id: m for m in rows}
    return [index[i] for i in ids if i in index]


def at_risk(db: Database, rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
            days: int = 30) -> list[dict]:
    """The customers-at-risk queue as ``insights.report.at_risk`` builds it, over the
    already loaded mentions, for the brand and source of the filters; "now" is the end of
    the period."""
    own = set(own_brand_ids(catalogue))
    entries = customers_at_risk(rows, own, filters.now, days, queries.risk_statuses(db),
                                queries.thread_authors(db))
    entries = [e for e in entries if not filters.brand or e.brand == filters.brand]
    profiles = queries.author_profiles(db, [e.author_id for e in entries])
    queue = [{**profiles.get(e.author_id, {}), **asdict(e)} for e in entries]
    return [row for row in queue if not filters.source or row.get("source") == filters.source]


def advocates(db: Database, rows: list[BrandMention], filters: Filters, catalogue: Catalogue,
              language_of: LanguageOf, min_mentions: int = 0, limit: int = 500) -> dict:
    """Scored advocates passing the filters, and NPS classes of authors in the period."""
    scored = queries.advocates(db, filters.brand, limit=limit)
    languages = tables.author_languages(rows, language_of)
    table = tables.advocate_table(scored, source=filters.source, language=filters.language,
                               min_mentions=min_mentions, languages=languages)
    current, _ = agg.split_periods(agg.apply_filters(rows, filters, language_of), filters)
    classes = tables.nps_classes(current, chosen_brands(filters, catalogue))
    profiles = queries.author_profiles(db, sorted({row["author_id"] for row in classes}))
    for row in classes:
        profile = profiles.get(row["author_id"], {})
        row["handle"], row["source"] = profile.get("handle"), profile.get("source")
        row["profile_url"] = profile.get("profile_url")
    return {"table": table, "classes": classes, "scored": len(scored)}


def advocate_export(db: Database, table: list[dict], catalogue: Catalogue,
                    filters: Filters) -> list[dict]:
    """The export rows (``insights.exports``: components as text, sample post links) of
    the advocates shown."""
    shown = {(row["author_id"], row["brand"]) for row in table}
    return [row for row in export_rows("advocates", db, catalogue, filters.now)
            if (row["author_id"], row["brand"]) in shown]


def questions(db: Database, filters: Filters, catalogue: Catalogue,
              slow_hours: float = 24.0) -> list[dict]:
    """Community questions of the period, unanswered and slow ones first."""
    posts = thread_posts(db)
    sources = {post.mention_id: post.thread.split(":", 1)[0] for post in posts}
    asked = [asdict(q) for q in community_questions(posts, brand_names(catalogue))]
    return tables.question_rows(asked, filters, sources, slow_hours)


def mentions(db: Database, rows: list[BrandMention], filters: Filters, language_of: LanguageOf,
             *, text: str = "", product: str | None = None, touchpoint: str | None = None,
             sentiment: str | None = None, limit: int = 50) -> dict:
    """Posts matching the search text and filters, newest first, each with its brand rows,
    tags and evidence (when ``insights.queries.mention_evidence`` exists)."""
    in_period = agg.apply_filters(rows, filters, language_of, brand=False, previous=False)
    index = agg.by_mention(in_period)
    if text.strip():
        found = store.search_mentions(db, text, source=filters.source, limit=2000)
        posts = []
        for post in found:
            if not filters.contains(post["published_at"]):
                continue
            own = index.get(post["id"])
            if filters.language and own is None:
                continue  # the language of posts naming no brand is not loaded
            if agg.post_matches(own, filters, product=product, touchpoint=touchpoint,
                                sentiment=sentiment):
                posts.append(post)
        total = len(posts)
        posts = posts[:limit]
    else:
        brand_rows = [m for m in in_period if not filters.brand or m.brand == filters.brand]
        newest, total = agg.newest_posts(brand_rows, product=product, touchpoint=touchpoint,
                                         sentiment=sentiment, limit=limit)
        posts = [{"id": m.mention_id, "source": m.source_id, "url": m.url, "kind": None,
                  "published_at": m.published_at, "title": None, "text": m.text,
                  "author": None} for m in newest]
    ids = [post["id"] for post in posts]
    evidence = data.mention_evidence(db, ids)
    for post in posts:
        post["brands"] = [asdict(m) | {"text": None} for m in index.get(post["id"], [])]
        post["language"] = next((language_of(m) for m in index.get(post["id"], [])), None)
        post["evidence"] = (evidence or {}).get(post["id"])
    return {"posts": posts, "total": total, "evidence_available": evidence is not None}


def complaints(db: Database, rows: list[BrandMention], filters: Filters) -> dict:
    """Complaint clusters with their trend, languages, products and touchpoints; ``None``
    values while the read queries are missing."""
    clusters = data.complaint_clusters(db)
    if clusters is None:
        return {"available": False, "clusters": []}
    members = data.cluster_members(db) or []
    index = agg.by_mention(rows)
    return {"available": True, "clusters": tables.cluster_rows(clusters, members, index, filters)}


def cluster_posts(db: Database, cluster_id: str, rows: list[BrandMention] = (),
                  limit: int = 10) -> list[dict]:
    """Representative posts of one cluster first, with their brand rows (from ``rows``) and
    evidence when available."""
    members = data.cluster_members(db, cluster_id) or []
    # representative posts first, then the nearest to the centre (score: distance)
    members = sorted(members, key=lambda m: (not m.get("representative"),
                                             m.get("score") if m.get("score") is not None
                                             else float("inf")))[:limit]
    evidence = data.mention_evidence(db, [m["mention_id"] for m in members]) or {}
    index = agg.by_mention(rows)
    return [{**m, "evidence": evidence.get(m["mention_id"]),
             "brands": [asdict(b) | {"text": None} for b in index.get(m["mention_id"], [])]}
            for m in members]


def sources(db: Database) -> list[dict]:
    """Crawl status per source with its stored mentions."""
    return tables.source_rows(store.last_runs(db), queries.counts_by(db, "source_id"))
