"""Read-only queries the CLI reports and the dashboard show. No writes here."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from sqlite_utils import Database

from insights.mention_facts import brand_mentions_of_days
from insights.nps import PeriodNps, nps_over_time
from insights.questions import ThreadPost
from store.incidents import decode_incident, incident_slices
from store.search import parse_query, snippet, term_conditions

EARLIEST_DATE = "1990-01-01"  # no post is older; an earlier date is a misread one

# through the small partial index of question hits (m009), not the index of every hit: a
# probe per mention (a scalar subquery, which PostgreSQL does not turn into a scan of every
# question of the store as it would an EXISTS)
IS_QUESTION = """(SELECT 1 FROM hits h INDEXED BY hits_question
                  WHERE h.mention_id = m.id AND h.kind = 'intent' AND h.key = 'question'
                  LIMIT 1) IS NOT NULL"""


def overview(db: Database) -> dict:
    """Totals across the store: mentions, authors, sources, threads, tagged share."""
    mentions, authors, sources = db.execute(
        """SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM authors),
                  (SELECT count(*) FROM sources)"""
    ).fetchone()
    threads = db.execute(
        "SELECT count(*) FROM (SELECT DISTINCT source_id, thread_id FROM mentions "
        "WHERE thread_id IS NOT NULL) threads"
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


def open_incidents(db: Database, limit: int = 200, seen_since: str | None = None) -> list[dict]:
    """Incidents not yet resolved (and, with ``seen_since``, any seen since then), latest
    first, JSON decoded, each with its ``slices`` (alerts, largest first)."""
    return _incidents(db, "WHERE status != 'resolved' OR last_seen_at >= ?",
                      [seen_since or "9999"], limit)


def incident(db: Database, incident_id: int) -> dict | None:
    """One incident by id (any status), as ``open_incidents`` gives them, or None."""
    found = _incidents(db, "WHERE id = ?", [incident_id], 1)
    return found[0] if found else None


def incidents_between(db: Database, first: str, last: str) -> list[dict]:
    """Incidents under way at some time from ``first`` to ``last`` (ISO times), latest first."""
    return _incidents(db, "WHERE started_at <= ? AND last_seen_at >= ?", [last, first], None)


def _incidents(db: Database, where: str, params: list, limit: int | None) -> list[dict]:
    cut = "" if limit is None else " LIMIT ?"
    rows = db.execute(f"SELECT * FROM incidents {where} ORDER BY last_seen_at DESC, id{cut}",
                      [*params] if limit is None else [*params, limit])
    columns = [column[0] for column in rows.description]
    found = [decode_incident(dict(zip(columns, row, strict=True))) for row in rows.fetchall()]
    slices = incident_slices(db, [incident["id"] for incident in found])
    for incident in found:
        incident["slices"] = slices.get(incident["id"], [])
    return found


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
        f"""SELECT best.*,
                   (SELECT max(m.published_at) FROM mentions m WHERE m.author_id = best.id),
                   (SELECT count(*) FROM mentions m WHERE m.author_id = best.id)
            FROM (SELECT a.id, a.source_id, a.handle, a.display_name, a.profile_url, s.brand,
                         s.score, s.components
                  FROM advocate_scores s JOIN authors a ON a.id = s.author_id {where}
                  ORDER BY s.score DESC, a.handle LIMIT ?) best
            ORDER BY best.score DESC, best.handle""",
        [*params, limit],
    ).fetchall()
    keys = ("author_id", "source", "handle", "name", "profile_url", "brand", "score",
            "components", "last_seen", "mentions")
    result = [dict(zip(keys, row, strict=True)) for row in rows]
    for row in result:
        row["components"] = json.loads(row["components"])
    return result


def nps_trend(db: Database, first: str, last: str, by: str = "week",
              official: Collection[str] = ()) -> list[PeriodNps]:
    """Social NPS per brand and product per ``week`` or ``month`` of the UTC days
    ``first``–``last`` (``insights.nps.nps_over_time``; ``official``: the brands' own author
    ids). A period the range cuts counts only its days inside the range."""
    days, day = [], date.fromisoformat(first)
    while day <= date.fromisoformat(last):
        days.append(day.isoformat())
        day += timedelta(days=1)
    return nps_over_time(brand_mentions_of_days(db, days), by, official)


def risk_statuses(db: Database) -> dict[str, str]:
    """Where support stands with each customer at risk (author id → status)."""
    return dict(db.execute("SELECT author_id, status FROM risk_status").fetchall())


def thread_authors(db: Database, since: str | None = None,
                   threads: list[str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Per thread, who posted when: to tell whether a complaint got an answer. With
    ``since``, posts published since then; with ``threads``, those threads only."""
    where, params = ["published_at IS NOT NULL", "author_id IS NOT NULL"], []
    if since:
        where.append("published_at >= ?")
        params.append(since)
    if threads is not None:
        where.append("source_id || ':' || coalesce(thread_id, id) IN "
                     "(SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(set(threads))))
    out: dict[str, list[tuple[str, str]]] = {}
    for thread, when, author in db.execute(
            f"""SELECT source_id || ':' || coalesce(thread_id, id), published_at, author_id
                FROM mentions WHERE {' AND '.join(where)}""", params):
        out.setdefault(thread, []).append((when, author))
    return out


def first_posts(db: Database, author_ids: list[str]) -> dict[str, str]:
    """The publication time of each given author's first stored post."""
    return dict(db.execute(
        """SELECT author_id, min(published_at) FROM mentions
           WHERE author_id IN (SELECT value FROM json_each(?)) AND published_at IS NOT NULL
           GROUP BY author_id""", [json.dumps(sorted(set(author_ids)))]).fetchall())


def author_profiles(db: Database, author_ids: list[str]) -> dict[str, dict]:
    """Handle, source and profile link of the given authors."""
    rows = db.execute(
        """SELECT id, source_id, handle, display_name, profile_url FROM authors
           WHERE id IN (SELECT value FROM json_each(?))""", [json.dumps(sorted(set(author_ids)))])
    return {author: dict(zip(("source", "handle", "name", "profile_url"), row, strict=True))
            for author, *row in rows}


def filter_choices(db: Database, now: datetime | None = None) -> dict:
    """What the dashboard's filters can take, from indexes only: the languages and sources
    that have mentions, the first and last publication times, and whether any mention is
    stored.

    Only real dates count: one more than a day after ``now`` (default: the current time) or
    before 1990 (a misread date stored by an older version) does not move the latest or
    earliest day, so the default period still ends at the latest real post."""
    latest = ((now or datetime.now(UTC)) + timedelta(days=1)).astimezone(UTC)
    first, last = db.execute(
        """SELECT (SELECT min(published_at) FROM mentions WHERE published_at >= ?),
                  (SELECT max(published_at) FROM mentions WHERE published_at <= ?)""",
        [EARLIEST_DATE, latest.isoformat(timespec="seconds")]).fetchone()
    return {"languages": _distinct(db, "language"), "sources": _distinct(db, "source_id"),
            "first_published": first, "last_published": last,
            "has_mentions": db.execute("SELECT EXISTS (SELECT 1 FROM mentions)").fetchone()[0]
            == 1}


def _distinct(db: Database, column: str) -> list[str]:
    """Distinct non-null values of an indexed column of ``mentions``, hopping from one value
    to the next through the index (a handful of lookups, not a scan)."""
    return [value for (value,) in db.execute(
        f"""WITH RECURSIVE hop(value) AS (
                SELECT min({column}) FROM mentions
                UNION ALL
                SELECT (SELECT min({column}) FROM mentions WHERE {column} > hop.value)
                FROM hop WHERE hop.value IS NOT NULL)
            SELECT value FROM hop WHERE value IS NOT NULL""")]


def question_posts(db: Database, first: str, last: str) -> list[ThreadPost]:
    """The questions asked on the UTC days ``first``–``last`` and the posts of their threads
    published since, oldest first: what ``insights.questions.community_questions`` needs to
    tell whether and how fast each was answered."""
    since = _shift(first, -1)
    asked = db.execute(
        f"""SELECT m.id, m.source_id, m.thread_id FROM mentions m
            WHERE m.published_at >= ? AND m.published_at < ?
              AND date(m.published_at) BETWEEN ? AND ? AND {IS_QUESTION}""",
        [since, _shift(last, 2), first, last]).fetchall()
    threads = sorted({(source, thread) for _, source, thread in asked if thread is not None})
    alone = sorted(mention for mention, _, thread in asked if thread is None)
    columns = f"""m.published_at, m.seq, m.id, m.source_id || ':' || coalesce(m.thread_id, m.id),
                  a.handle, m.published_at, {IS_QUESTION}, m.url, m.text"""
    rows = db.execute(
        f"""SELECT {columns} FROM json_each(?) t
            CROSS JOIN mentions m ON m.source_id = json_extract(t.value, '$[0]')
                AND m.thread_id = json_extract(t.value, '$[1]')
            LEFT JOIN authors a ON a.id = m.author_id
            WHERE m.published_at >= ?""", [json.dumps(threads), since]).fetchall()
    rows += db.execute(
        f"""SELECT {columns} FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
            WHERE m.id IN (SELECT value FROM json_each(?))""", [json.dumps(alone)]).fetchall()
    return [ThreadPost(*row[2:6], bool(row[6]), row[7], row[8]) for row in sorted(rows)]


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def search_between(db: Database, query: str, first: str, last: str, *,
                   source: str | None = None, limit: int = 2000) -> list[dict]:
    """``store.search_mentions`` within the UTC days ``first``–``last``: mentions whose
    title or text holds every term of ``query`` (Cyrillic or Latin; "quotes" keep a phrase),
    newest first, walking the days back from the newest so that a common word stops early."""
    terms = parse_query(query)
    if not terms:
        return []
    where = ["m.published_at >= ? AND m.published_at < ?",
             "date(m.published_at) BETWEEN ? AND ?"]
    params: list = [_shift(first, -1), _shift(last, 2), first, last]
    term_where, term_params = term_conditions(terms, db.dialect)
    where += term_where
    params += term_params
    if source:
        where.append("m.source_id = ?")
        params.append(source)
    rows = db.execute(
        f"""SELECT m.id, m.source_id, m.url, m.kind, m.published_at, m.title, m.text, a.handle
            FROM mentions m INDEXED BY mentions_published
            LEFT JOIN authors a ON a.id = m.author_id
            WHERE {" AND ".join(where)} ORDER BY m.published_at DESC, m.seq DESC LIMIT ?""",
        [*params, limit]).fetchall()
    keys = ("id", "source", "url", "kind", "published_at", "title", "text", "author")
    found = [dict(zip(keys, row, strict=True)) for row in rows]
    for post in found:
        post["snippet"] = snippet(post["text"], terms)
    return found


def mention_evidence(db: Database, mention_ids: list[str]) -> dict[str, dict]:
    """Tags (evidence decoded), hits and human corrections of the given mentions."""
    out = {mention: {"tags": {}, "hits": [], "corrections": []} for mention in mention_ids}
    if not mention_ids:
        return out
    ids = json.dumps(sorted(set(mention_ids)))
    for mention, name, value, score, model, version, evidence in db.execute(
            """SELECT mention_id, name, value, score, model, model_version, evidence FROM tags
               WHERE mention_id IN (SELECT value FROM json_each(?))""", [ids]):
        out[mention]["tags"][name] = {"value": value, "score": score, "model": model,
                                      "model_version": version,
                                      "evidence": json.loads(evidence) if evidence else {}}
    keys = ("kind", "key", "label", "sentiment", "confidence", "start", "end", "evidence",
            "method", "sentence", "extra")
    for mention, *row in db.execute(
            """SELECT mention_id, kind, key, label, sentiment, confidence, start, "end",
                      evidence, method, sentence, extra FROM hits
               WHERE mention_id IN (SELECT value FROM json_each(?))
               ORDER BY mention_id, start, id""", [ids]):
        hit = dict(zip(keys, row, strict=True))
        hit["extra"] = json.loads(hit["extra"] or "{}")
        out[mention]["hits"].append(hit)
    keys = ("field", "old_value", "new_value", "note", "created_at")
    for mention, *row in db.execute(
            """SELECT mention_id, field, old_value, new_value, note, created_at
               FROM corrections WHERE mention_id IN (SELECT value FROM json_each(?))
               ORDER BY id""", [ids]):
        out[mention]["corrections"].append(dict(zip(keys, row, strict=True)))
    return out


def complaint_clusters(db: Database) -> list[dict]:
    """Complaint themes and their clusters (``parent_id``: the theme), largest first, with
    terms and details decoded."""
    keys = ("id", "label", "title", "parent_id", "terms", "size", "details", "created_at",
            "updated_at")
    rows = [dict(zip(keys, row, strict=True)) for row in db.execute(
        """SELECT id, label, title, parent_id, terms, size, details, created_at, updated_at
           FROM clusters ORDER BY size DESC, id""")]
    for row in rows:
        row["terms"], row["details"] = json.loads(row["terms"]), json.loads(row["details"])
    return rows


def cluster_days(db: Database) -> dict[str, Counter]:
    """Members of each complaint cluster per UTC day of publication."""
    out: dict[str, Counter] = {}
    for cluster, day, members in db.execute("SELECT cluster_id, day, members FROM cluster_days"):
        out.setdefault(cluster, Counter())[day] = members
    return out


def cluster_members(db: Database, cluster_id: str, limit: int = 10) -> list[dict]:
    """Posts of one complaint cluster: its representative posts first, then the nearest to
    its centre (``score`` is the distance)."""
    keys = ("cluster_id", "mention_id", "score", "representative", "published_at",
            "language", "source", "url", "text")
    rows = db.execute(
        """SELECT c.cluster_id, c.mention_id, c.score, c.representative, m.published_at,
                  m.language, m.source_id, m.url, m.text
           FROM cluster_members c JOIN mentions m ON m.id = c.mention_id
           WHERE c.cluster_id = ?
           ORDER BY c.representative DESC, c.score IS NULL, c.score, m.published_at DESC
           LIMIT ?""", [cluster_id, limit]).fetchall()
    return [dict(zip(keys, row, strict=True)) | {"representative": bool(row[3])}
            for row in rows]
