"""Full-text search over mentions, in Cyrillic and Latin alike.

A query is a list of terms, all of which must occur: "double quotes" keep a phrase together;
every other character (``'``, ``*``, ``^``, ``:``, ``(``, ``%``, ``_``…) is matched
literally, so no query is read as FTS5 syntax or a LIKE pattern. Only the first
``MAX_QUERY_CHARS`` characters and ``MAX_TERMS`` terms of a query are used.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from store.identity import fold_for_search
from store.pg_schema import FTS_DOCUMENT

# The trigram index finds any substring of three characters or more, so inflected
# forms match their stem ("Билайн" finds "Билайном"); shorter terms fall back to LIKE.
MIN_INDEXED_TERM = 3
MAX_QUERY_CHARS = 200
MAX_TERMS = 20
TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
LIKE_ESCAPE = "\\"


def parse_query(query: str) -> list[str]:
    """Split a query into terms; "double quotes" keep a phrase together and a quote left
    open is ignored. Cut to ``MAX_QUERY_CHARS`` characters and ``MAX_TERMS`` terms."""
    query = query.replace("\x00", " ")[:MAX_QUERY_CHARS]
    terms = (" ".join((phrase or word).split()) for phrase, word in TERM.findall(query))
    return [fold_for_search(term) for term in terms if term][:MAX_TERMS]


def term_conditions(terms: list[str], dialect: str = "sqlite") -> tuple[list[str], list]:
    """SQL conditions on ``mentions m`` (and their parameters) that hold when the title or
    text contains every term: three characters or more through the trigram index (SQLite's
    FTS5 with each term a quoted phrase, PostgreSQL's ``pg_trgm`` with each a LIKE pattern);
    shorter ones through LIKE with ``%``, ``_`` and the escape escaped."""
    where, params = [], []
    indexed = [term for term in terms if len(term) >= MIN_INDEXED_TERM]
    if indexed and dialect == "postgresql":
        document = FTS_DOCUMENT.format(alias="f")
        where.append("m.seq IN (SELECT rowid FROM mentions_fts f WHERE "
                     + " AND ".join(f"{document} LIKE ? ESCAPE '{LIKE_ESCAPE}'"
                                    for _ in indexed) + ")")
        params += [f"%{like_literal(term.lower())}%" for term in indexed]
    elif indexed:
        where.append("m.seq IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
        params.append(" AND ".join('"{}"'.format(term.replace('"', '""')) for term in indexed))
    for term in terms:
        if len(term) < MIN_INDEXED_TERM:
            where.append(f"(lower(m.text) LIKE ? ESCAPE '{LIKE_ESCAPE}' "
                         f"OR lower(coalesce(m.title, '')) LIKE ? ESCAPE '{LIKE_ESCAPE}')")
            params += [f"%{like_literal(term.lower())}%"] * 2
    return where, params


def like_literal(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character escaped."""
    return re.sub(r"([%_\\])", r"\\\1", text)


def search_mentions(
    db: Database, query: str, *, source: str | None = None, limit: int = 20
) -> list[dict]:
    """Mentions whose title or text contains every term of ``query``, newest first."""
    terms = parse_query(query)
    if not terms:
        return []
    where, params = term_conditions(terms, db.dialect)
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
