"""Rows for each export: mentions, advocates, customers at risk, community questions."""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from config.catalogue import Catalogue
from insights.queries import advocates, mentions_for_export
from insights.report import at_risk, questions

EXPORTS = {
    "mentions": ["id", "source", "kind", "published_at", "author", "profile_url", "title",
                 "text", "language", "rating", "url"],
    "advocates": ["handle", "name", "source", "profile_url", "brand", "score", "mentions",
                  "last_seen", "components", "sample_posts"],
    "at-risk": ["handle", "source", "profile_url", "brand", "status", "priority", "negatives",
                "touchpoints", "churn", "churn_target", "answered", "last_at", "posts"],
    "questions": ["author", "asked_at", "text", "url", "answered_at", "answered_by",
                  "by_brand", "hours_to_answer"],
}


def export_rows(what: str, db: Database, catalogue: Catalogue, now: datetime,
                source: str | None = None) -> list[dict]:
    """The rows of one export; list and dict cells become readable text."""
    if what == "mentions":
        rows = mentions_for_export(db, source)
    elif what == "advocates":
        rows = advocates(db)
        for row in rows:
            row["sample_posts"] = "\n".join(_sample_posts(db, row["author_id"], row["brand"]))
    elif what == "at-risk":
        rows = at_risk(db, catalogue, now)
        for row in rows:
            row["posts"] = "\n".join(f"{p['published_at']} {p['url']}" for p in row["posts"])
    else:
        rows = questions(db, catalogue)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict):
                row[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif isinstance(value, list):
                row[key] = ", ".join(map(str, value))
    return rows


def _sample_posts(db: Database, author_id: str, brand: str, limit: int = 3) -> list[str]:
    # newest first through the (author, time) index, stopping at ``limit`` posts
    rows = db.execute(
        """SELECT m.url FROM mentions m
           WHERE m.author_id = ? AND EXISTS (
               SELECT 1 FROM hits h WHERE h.mention_id = m.id
               AND h.kind IN ('brand', 'product') AND h.key LIKE ? AND h.sentiment = 'positive')
           ORDER BY m.published_at DESC LIMIT ?""",
        [author_id, f"{brand}%", limit],
    ).fetchall()
    return [url for (url,) in rows]
