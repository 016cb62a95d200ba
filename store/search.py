"""Full-text search over mentions, in Cyrillic and Latin alike."""

from __future__ import annotations

import shlex

from sqlite_utils import Database

from store.identity import fold_for_search

# The trigram index finds any substring of three characters or more, so inflected
# forms match their stem ("Билайн" finds "Билайном"); shorter terms fall back to LIKE.
MIN_INDEXED_TERM = 3


def parse_query(query: str) -> list[str]:
    """Split a query into terms; "double quotes" keep a phrase together."""
    try:
        terms = shlex.split(query)
    except ValueError:
        terms = query.replace('"', " ").split()
    return [fold_for_search(term) for term in terms if term.strip()]


def search_mentions(
    db: Database, query: str, *, source: str | None = None, limit: int = 20
) -> list[dict]:
    """Mentions whose title or text contains every term of ``query``, newest first."""
    terms = parse_query(query)
    if not terms:
        return []
    indexed = [term for term in terms if len(term) >= MIN_INDEXED_TERM]
    short = [term for term in terms if len(term) < MIN_INDEXED_TERM]
    where, params = [], []
    if indexed:
        match = " AND ".join('"{}"'.format(term.replace('"', '""')) for term in indexed)
        where.append("m.seq IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
        params.append(match)
    for term in short:
        where.append("(lower(m.text) LIKE ? OR lower(coalesce(m.title, '')) LIKE ?)")
        params += [f"%{term.lower()}%"] * 2
    if source:
        where.append("m.source_id = ?")
        params.append(source)
    sql = f"""
        SELECT m.id, m.source_id, m.url, m.kind, m.published_at, m.title, m.text,
               a.handle AS author
        FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
        WHERE {" AND ".join(where)}
        ORDER BY m.published_at DESC, m.seq DESC
        LIMIT ?"""
    rows = db.execute(sql, [*params, limit]).fetchall()
    columns = ["id", "source", "url", "kind", "published_at", "title", "text", "author"]
    results = [dict(zip(columns, row, strict=True)) for row in rows]
    for result in results:
        result["snippet"] = snippet(result["text"], terms)
    return results


def snippet(text: str, terms: list[str], width: int = 160) -> str:
    """A window of ``text`` around the first matched term, each matched term in [brackets]."""
    folded = fold_for_search(text).lower()  # same length as text: positions carry over
    spans = sorted(
        (pos, pos + len(term))
        for term in terms
        if (pos := folded.find(term.lower())) >= 0
    )
    start = max(0, spans[0][0] - width // 3) if spans else 0
    end = start + width
    pieces, cursor = [], start
    for begin, finish in spans:
        if begin < cursor or finish > end:
            continue
        pieces += [text[cursor:begin], "[", text[begin:finish], "]"]
        cursor = finish
    pieces.append(text[cursor:end])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(pieces) + suffix
