"""Everything one page shows, computed in one call from the store, so a page can cache it as
a whole. Figures come from the daily roll-ups (``insights.daily``), lists of posts from row
reads limited to the period. Pure apart from the read queries it calls; no streamlit.
``bench/dashboard.py`` times these functions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

from sqlite_utils import Database

import store
from config.catalogue import Catalogue
from dashboard import aggregates as agg
from dashboard import tables
from dashboard.data import display_names
from dashboard.filters import Filters
from insights import daily, queries
from insights.bulk import paused_gc
from insights.customers import official_author_ids
from insights.digest import Week, build_digest
from insights.digest_facts import digest_facts
from insights.digest_render import to_html, to_markdown
from insights.exports import export_rows
from insights.mention_facts import (
    BrandMention,
    brand_mentions_by_id,
    brand_mentions_of_days,
    negative_or_churn_since,
    newest_brand_mentions,
)
from insights.questions import community_questions
from insights.report import brand_names
from insights.risk import customers_at_risk


def own_brand_ids(catalogue: Catalogue) -> list[str]:
    return [brand.id for brand in catalogue.own_brands]


def brand_ids(catalogue: Catalogue) -> list[str]:
    return [brand.id for brand in catalogue.brands]


def chosen_brands(filters: Filters, catalogue: Catalogue) -> list[str]:
    """The brand of the filters, or every own brand."""
    return [filters.brand] if filters.brand else own_brand_ids(catalogue)


def _where(filters: Filters) -> dict:
    """The roll-up columns the global source and language filters set."""
    return {"source_id": filters.source, "language": filters.language}


def overview(db: Database, filters: Filters, catalogue: Catalogue) -> dict:
    """KPIs with changes, daily volume by sentiment, social NPS per week, open incidents, and
    how many days of figures were computed on the fly (changed since the last ``otklik
    analyze``)."""
    chosen = chosen_brands(filters, catalogue)
    first, last = agg.bounds(filters, previous=True)[0], filters.end.isoformat()
    with daily.window(db, first, last) as window:
        totals = window.totals("brand_days", ("day", "brand", "brands"), **_where(filters))
        authors = [window.totals("author_days", ("brand", "author_id"), *days, brand=chosen,
                                 **_where(filters))
                   for days in (agg.bounds(filters), agg.bounds(filters, previous=True))]
        by_day = window.totals("author_days", ("day", "brand", "author_id"),
                               *agg.bounds(filters), brand=chosen, **_where(filters))
        stale = len(window.stale)
    incidents = [i for i in queries.open_incidents(db) if agg.alert_matches(i, filters)]
    return {
        "kpis": agg.overview_kpis(totals, *authors, filters, chosen, brand_ids(catalogue)),
        "nps_weekly": agg.nps_by_period(by_day, "week"),
        "daily": agg.daily_sentiment(totals, filters, chosen),
        "incidents": incidents,
        "tagged": agg.post_count(totals, None),
        "stale_days": stale,
    }


def journey(db: Database, filters: Filters, catalogue: Catalogue,
            product: str | None = None) -> dict:
    """Heatmap cells (touchpoint × week) of the chosen brand(s) and product, and where it
    hurts in the latest week."""
    chosen = chosen_brands(filters, catalogue)
    where = {"brand": chosen, "product": product, **_where(filters)}
    with daily.window(db, *agg.bounds(filters)) as window:
        cells = window.totals("touchpoint_days", ("day", "touchpoint", "brand", "brands"),
                              **where)
        posts = window.totals("brand_days", ("brand", "brands"), **where)
    cells = agg.journey_cells(cells, chosen, product, [t.id for t in catalogue.touchpoints])
    return {"cells": cells, "hurting": agg.hurting(cells),
            "posts": agg.post_count(posts, chosen, product)}


def journey_posts(db: Database, filters: Filters, catalogue: Catalogue, product: str | None,
                  touchpoint: str, week: str, limit: int = 30) -> list[BrandMention]:
    """The posts behind one heatmap cell: negative at the touchpoint first, then newest."""
    monday = date.fromisoformat(week)
    days = [(monday + timedelta(days=i)).isoformat() for i in range(7)]
    rows = brand_mentions_of_days(db, [d for d in days if filters.contains(d)], touchpoint)
    chosen = agg.cell_rows(rows, filters, chosen_brands(filters, catalogue), product)
    return agg.cell_posts(chosen, touchpoint, week)[:limit]


def trends(db: Database, filters: Filters, catalogue: Catalogue, top: int = 6,
           incident: int | None = None) -> dict:
    """Slices by negatives (with change), daily negatives of every slice with spikes marked
    from the alerts, the open incidents of the filters and the one asked for by id (with
    their example posts), and the incidents resolved that were under way in the period."""
    where = {"brand": chosen_brands(filters, catalogue), **_where(filters)}
    first, last = agg.bounds(filters, previous=True)[0], filters.end.isoformat()
    with daily.window(db, first, last) as window:
        slices = agg.slice_days(
            window.totals("brand_days", ("day", "brand", "product"), **where),
            window.totals("touchpoint_days", ("day", "brand", "product", "touchpoint"),
                          **where))
    table = agg.slice_table(slices, filters)
    everything = [a for a in queries.alerts(db) if agg.alert_matches(a, filters)]
    open_ones = [i for i in queries.open_incidents(db) if agg.alert_matches(i, filters)]
    period = queries.incidents_between(db, filters.start.isoformat(),
                                       (filters.end + timedelta(days=1)).isoformat())
    resolved = [i for i in period if i["status"] == "resolved" and agg.alert_matches(i, filters)]
    asked = queries.incident(db, incident) if incident is not None else None
    shown = open_ones + ([asked] if asked else [])
    examples = brand_mentions_by_id(db, [i for one in shown for i in one["example_ids"]])
    # the default series: slices of a product or touchpoint (the brand total is a choice)
    alerted = [row["slice"] for row in table
               if row["negative"] and not row["slice"].endswith("/*/*")][:top]
    return {"table": table, "top": alerted, "daily": agg.daily_negatives(slices, filters),
            "spikes": agg.spike_marks(everything, [row["slice"] for row in table], filters),
            "incidents": open_ones, "resolved_incidents": resolved, "asked": asked,
            "examples": {mention: rows[0] for mention, rows in agg.by_mention(examples).items()}}


def at_risk(db: Database, filters: Filters, catalogue: Catalogue, days: int = 30) -> list[dict]:
    """The customers-at-risk queue as ``insights.report.at_risk`` builds it, for the brand
    and source of the filters; "now" is the end of the period."""
    since = (filters.now - timedelta(days=days)).isoformat()
    own = set(own_brand_ids(catalogue))
    with paused_gc():  # a month of complaints: tens of thousands of rows and entries
        rows = negative_or_churn_since(db, since, own)
        entries = customers_at_risk(rows, own, filters.now, days, queries.risk_statuses(db),
                                    queries.thread_authors(db, since, [m.thread for m in rows]),
                                    official_author_ids(catalogue))
        entries = [e for e in entries if not filters.brand or e.brand == filters.brand]
        profiles = queries.author_profiles(db, [e.author_id for e in entries])
        # vars(), not asdict(): a shallow copy is enough and a queue holds thousands of entries
        queue = [{**profiles.get(e.author_id, {}), **vars(e)} for e in entries]
    return [row for row in queue if not filters.source or row.get("source") == filters.source]


def advocates(db: Database, filters: Filters, catalogue: Catalogue, min_mentions: int = 0,
              limit: int = 500) -> dict:
    """Scored advocates passing the filters (language: the author's most frequent one over
    both periods), and NPS classes of the authors of the period."""
    official = official_author_ids(catalogue)
    scored = [row for row in queries.advocates(db, filters.brand, limit=limit)
              if row["author_id"] not in official]
    first, last = agg.bounds(filters, previous=True)[0], filters.end.isoformat()
    with daily.window(db, first, last) as window:
        languages = tables.author_languages(window.totals(
            "author_days", ("author_id", "language"),
            author_id=[row["author_id"] for row in scored]))
        authors = window.totals("author_days", ("brand", "author_id"), *agg.bounds(filters),
                                brand=chosen_brands(filters, catalogue), **_where(filters))
    authors = {key: sums for key, sums in authors.items() if key[1] not in official}
    table = tables.advocate_table(scored, source=filters.source, language=filters.language,
                                  min_mentions=min_mentions, languages=languages)
    with paused_gc():  # a row per author of the period: tens of thousands
        classes = tables.nps_classes(authors, chosen_brands(filters, catalogue))
        profiles = queries.author_profiles(db, [row["author_id"] for row in classes])
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
    posts = queries.question_posts(db, *agg.bounds(filters))
    sources = {post.mention_id: post.thread.split(":", 1)[0] for post in posts}
    asked = [asdict(q) for q in community_questions(posts, brand_names(catalogue))]
    return tables.question_rows(asked, filters, sources, slow_hours)


def mentions(db: Database, filters: Filters, *, text: str = "", product: str | None = None,
             touchpoint: str | None = None, sentiment: str | None = None,
             limit: int = 50) -> dict:
    """Posts of the period matching the search text and filters, newest first, each with
    its brand rows, tags and evidence; ``total``: how many match."""
    if text.strip():
        found = queries.search_between(db, text, *agg.bounds(filters), source=filters.source)
        index = agg.by_mention(
            m for m in brand_mentions_by_id(db, [post["id"] for post in found])
            if not m.duplicate and (not filters.language or m.language == filters.language))
        posts = [post for post in found
                 if not (filters.language and post["id"] not in index)
                 and agg.post_matches(index.get(post["id"]), filters, product=product,
                                      touchpoint=touchpoint, sentiment=sentiment)]
        total = len(posts)
        posts = posts[:limit]
    else:
        total = _browse_total(db, filters, product, touchpoint, sentiment)
        newest = newest_brand_mentions(db, *agg.bounds(filters), source=filters.source,
                                       language=filters.language, brand=filters.brand,
                                       product=product, touchpoint=touchpoint,
                                       sentiment=sentiment, limit=limit)
        index = {rows[0].mention_id: rows for rows in newest}
        posts = [{"id": m.mention_id, "source": m.source_id, "url": m.url, "kind": None,
                  "published_at": m.published_at, "title": None, "text": m.text,
                  "author": None} for m in (rows[0] for rows in newest)]
    evidence = queries.mention_evidence(db, [post["id"] for post in posts])
    for post in posts:
        rows = index.get(post["id"], [])
        post["brands"] = [asdict(m) | {"text": None} for m in rows]
        post["language"] = rows[0].language if rows else None
        post["evidence"] = evidence.get(post["id"])
    return {"posts": posts, "total": total}


def _browse_total(db: Database, filters: Filters, product: str | None,
                  touchpoint: str | None, sentiment: str | None) -> int:
    """Posts of the period with a brand row matching the Mentions page filters."""
    where = {"brand": filters.brand, "product": product, "sentiment": sentiment,
             **_where(filters)}
    with daily.window(db, *agg.bounds(filters)) as window:
        if touchpoint:
            totals = window.totals("touchpoint_days", ("brand", "brands"),
                                   touchpoint=touchpoint, **where)
        else:
            totals = window.totals("brand_days", ("brand", "brands"), **where)
    return agg.post_count(totals, [filters.brand] if filters.brand else None, product)


def complaints(db: Database, filters: Filters) -> list[dict]:
    """Complaint clusters with their trend, languages, products and touchpoints."""
    return tables.cluster_rows(queries.complaint_clusters(db), queries.cluster_days(db),
                               filters)


def cluster_posts(db: Database, cluster_id: str, limit: int = 10) -> list[dict]:
    """Representative posts of one cluster first, then the nearest to its centre, each with
    its brand rows and evidence."""
    members = queries.cluster_members(db, cluster_id, limit)
    ids = [m["mention_id"] for m in members]
    evidence = queries.mention_evidence(db, ids)
    index = agg.by_mention(brand_mentions_by_id(db, ids))
    return [{**m, "evidence": evidence.get(m["mention_id"]),
             "brands": [asdict(b) | {"text": None} for b in index.get(m["mention_id"], [])]}
            for m in members]


def sources(db: Database) -> list[dict]:
    """Crawl status per source with its stored mentions."""
    return tables.source_rows(store.last_runs(db), queries.counts_by(db, "source_id"))


def digest(db: Database, catalogue: Catalogue, week: Week, base_url: str) -> dict:
    """The weekly digest: ``page`` with links relative to this dashboard, and the Markdown
    and e-mail HTML files with links to ``base_url``."""
    facts, names = digest_facts(db, catalogue, week), display_names(catalogue)
    shared = build_digest(week, facts, base_url, names)
    return {"page": build_digest(week, facts, "", names), "markdown": to_markdown(shared),
            "html": to_html(shared)}
