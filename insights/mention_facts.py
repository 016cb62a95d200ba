"""Read queries: one row per mention and brand it names, with the stance and signals the
insights need (advocates, NPS, customers at risk, spikes, the dashboard's roll-ups). SQL
lives here and in store/."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from sqlite_utils import Database

from insights.bulk import paused_gc

# A human correction of a mention's sentiment wins over the model's tag.
EFFECTIVE_SENTIMENT = """coalesce(
    (SELECT c.new_value FROM corrections c WHERE c.mention_id = m.id AND c.field = 'sentiment'
     ORDER BY c.id DESC LIMIT 1),
    (SELECT t.value FROM tags t WHERE t.mention_id = m.id AND t.name = 'sentiment'))"""
# The mention names a brand, or the brand through one of its products (kept in ``extra``).
NAMES_BRAND = """EXISTS (SELECT 1 FROM hits b WHERE b.mention_id = m.id AND (
    (b.kind IN ('brand', 'competitor') AND b.key = :brand)
    OR (b.kind = 'product' AND coalesce(json_extract(b.extra, '$.brand'), b.key) = :brand)))"""
NAMES_ANY_BRAND = """EXISTS (SELECT 1 FROM hits b WHERE b.mention_id = m.id
    AND b.kind IN ('brand', 'competitor', 'product'))"""
HAS_HIT = """EXISTS (SELECT 1 FROM hits b WHERE b.mention_id = m.id AND b.kind = '{kind}'
    AND b.key = :{kind})"""
# The author writes as a customer: not a Telegram channel or a news feed (the channel or
# the outlet is the author), not an article, not a post the forum marks as its staff's.
# Over ``mentions m`` joined with ``SOURCE_OF`` (its source, ``src``).
CUSTOMER = """(m.kind != 'article'
    AND coalesce(src.kind, '') NOT IN ('telegram', 'rss')
    AND json_extract(m.metadata, '$.staff') IS NULL)"""
SOURCE_OF = "LEFT JOIN sources src ON src.id = m.source_id"
# through the partial index of negative and churn hits (m009), a probe per mention of the
# window (a scalar subquery, which PostgreSQL does not turn into a scan of every such hit of
# the year as it would an EXISTS); intents carry no stance
NEGATIVE_OR_CHURN = """(SELECT 1 FROM hits b INDEXED BY hits_negative_or_churn
    WHERE b.mention_id = m.id AND (sentiment = 'negative' OR (kind = 'intent' AND key = 'churn'))
    AND (b.kind = 'intent'
         OR (b.kind IN ('brand', 'competitor') AND b.key IN (SELECT value FROM json_each(:brands)))
         OR (b.kind = 'product' AND coalesce(json_extract(b.extra, '$.brand'), b.key)
             IN (SELECT value FROM json_each(:brands))))
    LIMIT 1) IS NOT NULL"""


@dataclass(frozen=True)
class BrandMention:
    """A mention seen from one brand it names."""

    mention_id: str
    author_id: str | None
    source_id: str
    thread: str
    published_at: str
    brand: str
    product: str | None
    stance: str | None  # the sentiment of the sentences naming the brand
    sentiment: str | None  # the whole mention's (a human correction wins)
    touchpoints: tuple[tuple[str, str | None], ...]  # (touchpoint, its sentence's sentiment)
    intents: tuple[str, ...]
    churn_target: str | None
    likes: int
    replies: int
    views: int
    duplicate: bool
    has_link: bool
    url: str
    text: str
    language: str | None = None
    customer: bool = True  # see ``insights.customers``


@dataclass(frozen=True)
class ThreadReply:
    """A post that names no brand, in a thread where others do: an answer or a defence in
    a brand's thread rarely names the brand again."""

    mention_id: str
    author_id: str | None
    thread: str
    published_at: str
    sentiment: str | None  # the whole post's (a human correction wins)
    intents: tuple[str, ...]
    customer: bool  # see ``insights.customers``


def thread_replies(db: Database, rows: Iterable[BrandMention]) -> list[ThreadReply]:
    """The posts naming no brand (cross-posted copies left out) in the threads of ``rows``,
    oldest first: one read through the thread index, whatever the number of threads."""
    threads = sorted({(m.source_id, m.thread[len(m.source_id) + 1:]) for m in rows
                      if m.thread != f"{m.source_id}:{m.mention_id}"})
    found = db.execute(
        f"""SELECT m.id, m.author_id, m.source_id || ':' || m.thread_id, m.published_at,
                   {EFFECTIVE_SENTIMENT},
                   (SELECT group_concat(DISTINCT h.key) FROM hits h
                    WHERE h.mention_id = m.id AND h.kind = 'intent'), {CUSTOMER}
            FROM json_each(:threads) t
            CROSS JOIN mentions m ON m.source_id = json_extract(t.value, '$[0]')
                AND m.thread_id = json_extract(t.value, '$[1]')
            {SOURCE_OF}
            WHERE m.published_at IS NOT NULL AND m.duplicate_of IS NULL
              AND NOT {NAMES_ANY_BRAND}
            ORDER BY m.published_at, m.seq""", {"threads": json.dumps(threads)})
    return [ThreadReply(mention, author, thread, published, sentiment,
                        tuple(sorted(intents.split(","))) if intents else (), bool(customer))
            for mention, author, thread, published, sentiment, intents, customer in found]


def brand_mentions(db: Database, since: str | None = None) -> list[BrandMention]:
    """Every (mention, brand) pair of tagged mentions (published since ``since``), oldest
    first."""
    if since is None:
        return _read(db, "", {})
    return _read(db, "m.published_at >= :since", {"since": since})


def brand_mentions_of_days(db: Database, days: Iterable[str],
                           touchpoint: str | None = None) -> list[BrandMention]:
    """The (mention, brand) rows of mentions published on the given UTC days
    (``YYYY-MM-DD``; naming ``touchpoint`` if given), oldest first; one range read per run
    of consecutive days."""
    rows = []
    for first, last in _runs(sorted(set(days))):
        # times with an offset can fall on another UTC day than their text says: read a
        # day more each side, then keep the wanted days by SQLite's own UTC date
        where = ("m.published_at >= :low AND m.published_at < :high "
                 "AND date(m.published_at) BETWEEN :first AND :last")
        if touchpoint:
            where += f" AND {HAS_HIT.format(kind='touchpoint')}"
        rows += _read(db, where, {"low": _shift(first, -1), "high": _shift(last, 2),
                                  "first": first, "last": last, "touchpoint": touchpoint})
    return rows


def brand_mentions_by_id(db: Database, mention_ids: Iterable[str]) -> list[BrandMention]:
    """The (mention, brand) rows of the given mentions, oldest first."""
    ids = sorted(set(mention_ids))
    if not ids:
        return []
    return _read(db, "m.id IN (SELECT value FROM json_each(:ids))", {"ids": json.dumps(ids)})


def negative_or_churn_since(db: Database, since: str, brands: Iterable[str]
                            ) -> list[BrandMention]:
    """The rows of mentions since ``since`` that are negative about one of ``brands`` or
    announce a churn: every row the customers-at-risk queue can keep, and few others. The
    queue goes by the stance toward each brand, so the post's overall ``sentiment`` is not
    read (None), which halves the time on a month of a large store."""
    return _read(db, f"m.published_at >= :since AND {NEGATIVE_OR_CHURN}",
                 {"since": since, "brands": json.dumps(sorted(brands))}, sentiment=False)


def newest_brand_mentions(db: Database, first: str, last: str, *, source: str | None = None,
                          language: str | None = None, brand: str | None = None,
                          product: str | None = None, touchpoint: str | None = None,
                          sentiment: str | None = None, limit: int = 50
                          ) -> list[list[BrandMention]]:
    """The newest posts of the UTC days ``first``–``last`` (cross-posted copies left out)
    with a brand row matching the filters, each as its list of brand rows; newest first.

    The filters are those of the Mentions page: a row of ``brand`` (any brand if None) with
    ``product``, a post naming ``touchpoint``, a post of ``sentiment`` (``untagged``: none).
    """
    where = ["m.published_at >= :low AND m.published_at < :high",
             "date(m.published_at) BETWEEN :first AND :last", "m.duplicate_of IS NULL",
             NAMES_BRAND if brand else NAMES_ANY_BRAND]
    params = {"low": _shift(first, -1), "high": _shift(last, 2),
              "first": first, "last": last, "brand": brand, "product": product,
              "touchpoint": touchpoint, "sentiment": sentiment, "source": source,
              "language": language}
    if source:
        where.append("m.source_id = :source")
    if language:
        where.append("+m.language = :language")  # the time index, not the language one
    if product:
        where.append(HAS_HIT.format(kind="product"))
    if touchpoint:
        where.append(HAS_HIT.format(kind="touchpoint"))
    if sentiment:
        where.append(f"coalesce({EFFECTIVE_SENTIMENT}, 'untagged') = :sentiment")
    found: list[list[BrandMention]] = []
    offset, batch = 0, max(limit, 50)
    while len(found) < limit:
        ids = [row[0] for row in db.execute(
            f"""SELECT m.id FROM mentions m WHERE {" AND ".join(where)}
                ORDER BY m.published_at DESC, m.seq DESC LIMIT :limit OFFSET :offset""",
            {**params, "limit": batch, "offset": offset})]
        rows = _read(db, "m.id IN (SELECT value FROM json_each(:ids))",
                     {"ids": json.dumps(ids)}, order="m.published_at DESC, m.seq DESC")
        found += [post for post in _grouped(rows)
                  if any(_row_matches(m, brand, product, touchpoint, sentiment) for m in post)]
        if len(ids) < batch:
            break
        offset += batch
        batch *= 2
    return found[:limit]


def _row_matches(m: BrandMention, brand, product, touchpoint, sentiment) -> bool:
    return ((not brand or m.brand == brand) and (not product or m.product == product)
            and (not touchpoint or touchpoint in dict(m.touchpoints))
            and (not sentiment or (m.sentiment or "untagged") == sentiment))


def _grouped(rows: list[BrandMention]) -> list[list[BrandMention]]:
    """Consecutive rows of one mention together, in order."""
    posts: list[list[BrandMention]] = []
    for m in rows:
        if posts and posts[-1][0].mention_id == m.mention_id:
            posts[-1].append(m)
        else:
            posts.append([m])
    return posts


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _runs(days: list[str]) -> list[tuple[str, str]]:
    """Sorted days as runs of consecutive days: ``[(first, last), …]``."""
    runs: list[list[str]] = []
    for day in days:
        if runs and date.fromisoformat(day) - date.fromisoformat(runs[-1][1]) == timedelta(1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def _read(db: Database, where: str, params: dict, order: str = "m.published_at, m.seq",
          sentiment: bool = True) -> list[BrandMention]:
    """Brand rows of the mentions matching ``where`` (SQL over ``mentions m``), in
    ``order``, with the post's overall sentiment unless ``sentiment`` is False. Hits are
    read for those mentions only (all of them, in one scan, when there is no condition)."""
    clause = f"WHERE {where}" if where else ""
    rows = db.execute(
        f"""SELECT m.id, m.author_id, m.source_id,
                   m.source_id || ':' || coalesce(m.thread_id, m.id), m.published_at,
                   {EFFECTIVE_SENTIMENT if sentiment else "NULL"}, coalesce(m.likes, 0),
                   coalesce(m.replies, 0),
                   coalesce(m.views, 0), m.duplicate_of IS NOT NULL,
                   m.text LIKE '%http%' OR m.text LIKE '%www.%', m.url, m.text, m.language,
                   {CUSTOMER}
            FROM mentions m {SOURCE_OF} {clause} ORDER BY {order}""",
        params,
    ).fetchall()
    if where:  # the hits of these mentions only
        found = db.execute(
            """SELECT h.mention_id, h.kind, h.key, h.sentiment, h.extra
               FROM json_each(:ids) j CROSS JOIN hits h ON h.mention_id = j.value
               ORDER BY h.mention_id, h.start, h.id""",
            {"ids": json.dumps([row[0] for row in rows])})
    else:
        found = db.execute("""SELECT h.mention_id, h.kind, h.key, h.sentiment, h.extra FROM hits h
                              ORDER BY h.mention_id, h.start, h.id""")
    with paused_gc():
        hits = {mention: [hit[1:] for hit in group]
                for mention, group in groupby(found, itemgetter(0))}
        return [item for row in rows for item in _per_brand(row, hits.get(row[0], ()))]


def _per_brand(row, hits) -> list[BrandMention]:
    """The brand rows of one mention from its hits in text order (one pass: this runs for
    every post a page reads)."""
    (mention, author, source, thread, published, sentiment, likes, replies, views, duplicate,
     has_link, url, text, language, customer) = row
    touchpoints, intents, churn_target = [], {}, None
    brands: dict[str, list] = {}  # brand → [its first product, stances of its hits]
    for kind, key, stance, extra in hits:
        if kind == "touchpoint":
            touchpoints.append((key, stance))
        elif kind == "intent":
            if key == "churn" and key not in intents:
                churn_target = _extra(extra).get("target")
            intents[key] = None
        elif kind in ("brand", "competitor", "product"):
            brand = _extra(extra).get("brand", key) if kind == "product" else key
            entry = brands.setdefault(brand, [None, []])
            if kind == "product" and entry[0] is None:
                entry[0] = key
            entry[1].append(stance)
    touchpoints, intents = tuple(touchpoints), tuple(intents)
    return [
        BrandMention(mention, author, source, thread, published, brand, product,
                     _worst(stances), sentiment, touchpoints, intents, churn_target,
                     likes, replies, views, bool(duplicate), bool(has_link), url, text,
                     language, bool(customer))
        for brand, (product, stances) in brands.items()
    ]


@lru_cache(maxsize=4096)
def _extra(extra: str) -> dict:
    """A hit's ``extra`` decoded; the same few texts recur (a product's brand), so decoded
    once. Read-only."""
    return json.loads(extra)


def _worst(stances: list[str | None]) -> str | None:
    """A brand named negatively anywhere in a post is named negatively."""
    for label in ("negative", "positive", "neutral"):
        if label in stances:
            return label
    return None
