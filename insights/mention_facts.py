"""Read queries: one row per mention and brand it names, with the stance and signals the
insights need (advocates, NPS, customers at risk, spikes). SQL lives here and in store/."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

# A human correction of a mention's sentiment wins over the model's tag.
EFFECTIVE_SENTIMENT = """coalesce(
    (SELECT c.new_value FROM corrections c WHERE c.mention_id = m.id AND c.field = 'sentiment'
     ORDER BY c.id DESC LIMIT 1),
    (SELECT t.value FROM tags t WHERE t.mention_id = m.id AND t.name = 'sentiment'))"""


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


def brand_mentions(db: Database, since: str | None = None) -> list[BrandMention]:
    """Every (mention, brand) pair of tagged mentions, oldest first."""
    where = "WHERE m.published_at >= ?" if since else ""
    rows = db.execute(
        f"""SELECT m.id, m.author_id, m.source_id,
                   m.source_id || ':' || coalesce(m.thread_id, m.id), m.published_at,
                   {EFFECTIVE_SENTIMENT}, coalesce(m.likes, 0), coalesce(m.replies, 0),
                   coalesce(m.views, 0), m.duplicate_of IS NOT NULL,
                   m.text LIKE '%http%' OR m.text LIKE '%www.%', m.url, m.text
            FROM mentions m {where} ORDER BY m.published_at, m.seq""",
        [since] if since else [],
    ).fetchall()
    hits: dict[str, list] = {}
    for mention, kind, key, sentiment, extra in db.execute(
            """SELECT h.mention_id, h.kind, h.key, h.sentiment, h.extra FROM hits h
               ORDER BY h.mention_id, h.start, h.id"""):
        hits.setdefault(mention, []).append((kind, key, sentiment, extra))
    return [item for row in rows for item in _per_brand(row, hits.get(row[0], []))]


def _per_brand(row, hits) -> list[BrandMention]:
    (mention, author, source, thread, published, sentiment, likes, replies, views, duplicate,
     has_link, url, text) = row
    touchpoints = tuple((key, stance) for kind, key, stance, _ in hits if kind == "touchpoint")
    intents = tuple(dict.fromkeys(key for kind, key, _, _ in hits if kind == "intent"))
    churn_target = next((json.loads(extra).get("target") for kind, key, _, extra in hits
                         if kind == "intent" and key == "churn"), None)
    brands: dict[str, dict] = {}
    for kind, key, stance, extra in hits:
        if kind not in ("brand", "competitor", "product"):
            continue
        brand = json.loads(extra).get("brand", key) if kind == "product" else key
        entry = brands.setdefault(brand, {"product": None, "stances": []})
        if kind == "product":
            entry["product"] = entry["product"] or key
        entry["stances"].append(stance)
    return [
        BrandMention(mention, author, source, thread, published, brand, entry["product"],
                     _worst(entry["stances"]), sentiment, touchpoints, intents, churn_target,
                     likes, replies, views, bool(duplicate), bool(has_link), url, text)
        for brand, entry in brands.items()
    ]


def _worst(stances: list[str | None]) -> str | None:
    """A brand named negatively anywhere in a post is named negatively."""
    for label in ("negative", "positive", "neutral"):
        if label in stances:
            return label
    return None
