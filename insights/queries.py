"""Read-only queries the CLI reports and the dashboard show. No writes here."""

from __future__ import annotations

import json

from sqlite_utils import Database


def overview(db: Database) -> dict:
    """Totals across the store: mentions, authors, sources, threads, tagged share."""
    mentions, authors, sources = db.execute(
        """SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM authors),
                  (SELECT count(*) FROM sources)"""
    ).fetchone()
    threads = db.execute(
        "SELECT count(*) FROM (SELECT DISTINCT source_id, thread_id FROM mentions "
        "WHERE thread_id IS NOT NULL)"
    ).fetchone()[0]
    edited = db.execute("SELECT count(*) FROM mentions WHERE version > 1").fetchone()[0]
    first, last = db.execute("SELECT min(published_at), max(published_at) FROM mentions").fetchone()
    return {
        "mentions": mentions,
        "authors": authors,
        "sources": sources,
        "threads": threads,
        "edited": edited,
        "first_published": first,
        "last_published": last,
    }


def counts_by(db: Database, column: str) -> list[tuple[str, int]]:
    """Mentions per value of ``source_id``, ``kind`` or ``language``, largest first."""
    if column not in {"source_id", "kind", "language"}:
        raise ValueError(f"cannot count by {column!r}; choose source_id, kind or language")
    rows = db.execute(
        f"SELECT coalesce({column}, 'untagged'), count(*) FROM mentions "
        f"GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return [(value, count) for value, count in rows]


def daily_volume(db: Database, source: str | None = None) -> list[tuple[str, int]]:
    """Mentions per UTC day of publication, oldest first."""
    where, params = "WHERE published_at IS NOT NULL", []
    if source:
        where += " AND source_id = ?"
        params.append(source)
    return db.execute(
        f"SELECT substr(published_at, 1, 10) AS day, count(*) FROM mentions {where} "
        f"GROUP BY day ORDER BY day",
        params,
    ).fetchall()


def top_authors(db: Database, limit: int = 10) -> list[dict]:
    """Most active authors with their source, post count and last post date."""
    rows = db.execute(
        """SELECT a.source_id, a.handle, a.profile_url, count(m.id), max(m.published_at)
           FROM authors a JOIN mentions m ON m.author_id = a.id
           GROUP BY a.id ORDER BY count(m.id) DESC, a.handle LIMIT ?""",
        [limit],
    ).fetchall()
    keys = ("source", "handle", "profile_url", "mentions", "last_seen")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def mentions_for_export(db: Database, source: str | None = None) -> list[dict]:
    """Every mention with its author, for export, oldest first."""
    where, params = "", []
    if source:
        where, params = "WHERE m.source_id = ?", [source]
    rows = db.execute(
        f"""SELECT m.id, m.source_id, m.kind, m.published_at, a.handle, a.profile_url,
                   m.title, m.text, m.language, m.rating, m.url
            FROM mentions m LEFT JOIN authors a ON a.id = m.author_id {where}
            ORDER BY m.published_at, m.seq""",
        params,
    ).fetchall()
    keys = ("id", "source", "kind", "published_at", "author", "profile_url", "title", "text",
            "language", "rating", "url")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def open_alerts(db: Database, limit: int = 50, seen_since: str | None = None) -> list[dict]:
    """Alerts not yet resolved (and, with ``seen_since``, any seen since then), latest
    first, with their terms and example ids decoded."""
    rows = db.execute(
        """SELECT id, key, brand, product, touchpoint, started_at, last_seen_at, status,
                  magnitude, baseline, terms, example_ids, details FROM alerts
           WHERE status != 'resolved' OR last_seen_at >= ?
           ORDER BY last_seen_at DESC LIMIT ?""", [seen_since or "9999", limit]
    ).fetchall()
    keys = ("id", "key", "brand", "product", "touchpoint", "started_at", "last_seen_at",
            "status", "magnitude", "baseline", "terms", "example_ids", "details")
    alerts = [dict(zip(keys, row, strict=True)) for row in rows]
    for alert in alerts:
        for column in ("terms", "example_ids", "details"):
            alert[column] = json.loads(alert[column])
    return alerts


def alerts(db: Database, status: str | None = None) -> list[dict]:
    """Every alert (or those of one status), latest first."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = db.execute(
        f"""SELECT id, key, brand, product, touchpoint, started_at, last_seen_at, status,
                   magnitude, terms FROM alerts {where} ORDER BY started_at DESC""", params
    ).fetchall()
    keys = ("id", "key", "brand", "product", "touchpoint", "started_at", "last_seen_at",
            "status", "magnitude", "terms")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def advocates(db: Database, brand: str | None = None, limit: int = 100) -> list[dict]:
    """Scored advocates with their profile, components and last activity, best first."""
    where, params = ("WHERE s.brand = ?", [brand]) if brand else ("", [])
    rows = db.execute(
        f"""SELECT a.id, a.source_id, a.handle, a.display_name, a.profile_url, s.brand,
                   s.score, s.components, max(m.published_at), count(m.id)
            FROM advocate_scores s JOIN authors a ON a.id = s.author_id
            LEFT JOIN mentions m ON m.author_id = a.id {where}
            GROUP BY s.author_id, s.brand ORDER BY s.score DESC, a.handle LIMIT ?""",
        [*params, limit],
    ).fetchall()
    keys = ("author_id", "source", "handle", "name", "profile_url", "brand", "score",
            "components", "last_seen", "mentions")
    result = [dict(zip(keys, row, strict=True)) for row in rows]
    for row in result:
        row["components"] = json.loads(row["components"])
    return result


def risk_statuses(db: Database) -> dict[str, str]:
    """Where support stands with each customer at risk (author id → status)."""
    return dict(db.execute("SELECT author_id, status FROM risk_status").fetchall())


def thread_authors(db: Database) -> dict[str, list[tuple[str, str]]]:
    """Per thread, who posted when: to tell whether a complaint got an answer."""
    out: dict[str, list[tuple[str, str]]] = {}
    for thread, when, author in db.execute(
            """SELECT source_id || ':' || coalesce(thread_id, id), published_at, author_id
               FROM mentions WHERE published_at IS NOT NULL AND author_id IS NOT NULL"""):
        out.setdefault(thread, []).append((when, author))
    return out


def author_profiles(db: Database, author_ids: list[str]) -> dict[str, dict]:
    """Handle, source and profile link of the given authors."""
    profiles = {}
    for author in author_ids:
        row = db.execute("SELECT source_id, handle, display_name, profile_url FROM authors "
                         "WHERE id = ?", [author]).fetchone()
        if row:
            profiles[author] = dict(zip(("source", "handle", "name", "profile_url"), row,
                                        strict=True))
    return profiles
