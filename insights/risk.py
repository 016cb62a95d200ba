"""Customers at risk: who failed at a step of the journey, recently, and said so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from insights.customers import is_customer
from insights.mention_facts import BrandMention


@dataclass
class RiskEntry:
    """One person in the queue, with what went wrong and the posts that say so."""

    author_id: str
    brand: str
    negatives: int
    last_at: str
    touchpoints: list[str]
    churn: bool
    churn_target: str | None
    answered: bool
    posts: list[dict] = field(default_factory=list)
    priority: float = 0.0
    status: str = "new"


def customers_at_risk(mentions: list[BrandMention], own_brands: set[str], now: datetime,
                      days: int = 30, statuses: dict[str, str] | None = None,
                      thread_authors: dict[str, list[tuple[str, str]]] | None = None,
                      official: Collection[str] = ()) -> list[RiskEntry]:
    """Customers (``insights.customers``; ``official``: the brands' own author ids) whose
    posts of the last ``days`` are negative about an own brand, most urgent first: churn
    intent, then how many complaints, then how recent.

    ``thread_authors`` (thread → [(time, author)]) tells whether anyone answered them.
    """
    since = (now - timedelta(days=days)).isoformat()
    grouped: dict[tuple[str, str], list[BrandMention]] = defaultdict(list)
    customers = [m for m in mentions if is_customer(m, official)]
    for key, m in _complaints(customers, own_brands, since):
        if all(m.mention_id != seen.mention_id for seen in grouped[key]):
            grouped[key].append(m)
    entries = []
    for (author, brand), posts in grouped.items():
        touchpoints = sorted({key for m in posts for key, stance in m.touchpoints
                              if stance != "positive"})
        churned = [m for m in posts if "churn" in m.intents and m.churn_target != brand]
        answered = any(
            other != author and when > m.published_at
            for m in posts for when, other in (thread_authors or {}).get(m.thread, ()))
        last = max(m.published_at for m in posts)
        age_days = (now - datetime.fromisoformat(last)).total_seconds() / 86400
        entries.append(RiskEntry(
            author_id=author, brand=brand, negatives=len(posts), last_at=last,
            touchpoints=touchpoints, churn=bool(churned),
            churn_target=churned[-1].churn_target if churned else None, answered=answered,
            posts=[{"id": m.mention_id, "url": m.url, "published_at": m.published_at,
                    "text": m.text[:280]} for m in posts[-3:]],
            priority=round(3.0 * bool(churned) + min(len(posts), 5) + (0 if answered else 1)
                           + max(0.0, 1 - age_days / days), 2),
            status=(statuses or {}).get(author, "new"),
        ))
    return sorted(entries, key=lambda e: (-e.priority, e.last_at, e.author_id))


def _complaints(mentions: list[BrandMention], own_brands: set[str], since: str):
    """``((author, own brand), mention)`` for each recent post that is negative about an own
    brand or announces leaving it. "Switching to Telenova" names only the competitor: it
    counts against the own brands its author has named (or the only own brand there is)."""
    named: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.author_id and m.brand in own_brands:
            named[m.author_id].add(m.brand)
    only = own_brands if len(own_brands) == 1 else set()
    for m in mentions:
        if not m.author_id or m.published_at < since:
            continue
        if m.brand in own_brands:
            if m.stance == "negative" or ("churn" in m.intents and m.churn_target != m.brand):
                yield (m.author_id, m.brand), m
        elif "churn" in m.intents and m.churn_target == m.brand:
            for brand in sorted(named[m.author_id] or only):
                yield (m.author_id, brand), m
